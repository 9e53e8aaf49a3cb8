namespace Vigil.Host.Agents;

/// <summary>A change to a node attribute as it became visible to the cluster (after dampening).</summary>
public sealed record AttributeChange(string Node, string Name, string? OldValue, string? NewValue);

/// <summary>One attribute update request (from attrd_updater, crm_attribute, crm_master).</summary>
public sealed record AttributeUpdate(string Node, string Name, string? Value)
{
    /// <summary>Dampening delay: the value becomes visible this long after the first change (attrd -d).</summary>
    public TimeSpan? Dampen { get; init; }
    /// <summary>"reboot" (transient, status section) or "forever" (permanent node attribute).</summary>
    public string Lifetime { get; init; } = "reboot";
    /// <summary>Only change the dampening delay (attrd_updater -Y).</summary>
    public bool DelayOnly { get; init; }
}

/// <summary>
/// Node attributes with attrd's dampening (pure: "now" is always an argument). A dampened change
/// starts a timer on the first change; further changes before it fires only replace the pending
/// value, so a flapping link moves nothing. Reads return the written (cluster-visible) value;
/// <see cref="GetCurrent"/> returns the latest value requested, which is what attrd_updater -Q prints.
/// </summary>
public sealed class AttributeStore
{
    private sealed class Entry
    {
        public string? Written;
        public string? Current;
        public bool Known;
        public TimeSpan Dampen;
        public DateTimeOffset? WriteAt;
        public string Lifetime = "reboot";
    }

    private readonly Dictionary<(string Node, string Name), Entry> _entries = [];
    private readonly object _lock = new();

    /// <summary>The attribute name holding a resource's promotion score: master-RSC, clone suffix stripped.</summary>
    public static string PromotionName(string resource)
    {
        var colon = resource.IndexOf(':', StringComparison.Ordinal);
        return "master-" + (colon < 0 ? resource : resource[..colon]);
    }

    /// <summary>Applies an update; returns the changes that became visible immediately (no dampening).</summary>
    public IReadOnlyList<AttributeChange> Update(AttributeUpdate u, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue((u.Node, u.Name), out var e))
                _entries[(u.Node, u.Name)] = e = new Entry();
            if (u.Dampen is TimeSpan d) e.Dampen = d;
            e.Lifetime = u.Lifetime;
            if (u.DelayOnly) return Advance(now);
            e.Current = u.Value;
            e.Known = true;
            if (e.Dampen <= TimeSpan.Zero)
            {
                e.WriteAt = null;
                return Write(u.Node, u.Name, e);
            }
            if (e.Current == e.Written && e.WriteAt is null) return [];
            e.WriteAt ??= now + e.Dampen;
            return Advance(now);
        }
    }

    /// <summary>Writes every dampened value whose delay has passed.</summary>
    public IReadOnlyList<AttributeChange> Advance(DateTimeOffset now)
    {
        lock (_lock)
        {
            var changes = new List<AttributeChange>();
            foreach (var ((node, name), e) in _entries.OrderBy(kv => kv.Key))
            {
                if (e.WriteAt is DateTimeOffset at && at <= now)
                {
                    e.WriteAt = null;
                    changes.AddRange(Write(node, name, e));
                }
            }
            return changes;
        }
    }

    /// <summary>The earliest pending write, for the shell's timer.</summary>
    public DateTimeOffset? NextDue
    {
        get { lock (_lock) return _entries.Values.Where(e => e.WriteAt is not null).Select(e => e.WriteAt).Min(); }
    }

    private static List<AttributeChange> Write(string node, string name, Entry e)
    {
        if (e.Written == e.Current) return [];
        var old = e.Written;
        e.Written = e.Current;
        return [new AttributeChange(node, name, old, e.Current)];
    }

    /// <summary>The cluster-visible value (what rules and the scheduler see).</summary>
    public string? Get(string node, string name)
    {
        lock (_lock) return _entries.TryGetValue((node, name), out var e) ? e.Written : null;
    }

    /// <summary>The latest requested value, dampened or not.</summary>
    public string? GetCurrent(string node, string name)
    {
        lock (_lock) return _entries.TryGetValue((node, name), out var e) ? e.Current : null;
    }

    /// <summary>All visible attributes of <paramref name="node"/>.</summary>
    public IReadOnlyDictionary<string, string> Snapshot(string node)
    {
        lock (_lock)
            return _entries.Where(kv => kv.Key.Node == node && kv.Value.Written is not null)
                .ToDictionary(kv => kv.Key.Name, kv => kv.Value.Written!, StringComparer.Ordinal);
    }

    /// <summary>Latest requested values of every attribute (for the shims' query answers).</summary>
    public IReadOnlyList<(string Node, string Name, string Value)> CurrentValues()
    {
        lock (_lock)
            return _entries.Where(kv => kv.Value.Current is not null)
                .Select(kv => (kv.Key.Node, kv.Key.Name, kv.Value.Current!)).OrderBy(x => x).ToList();
    }
}
