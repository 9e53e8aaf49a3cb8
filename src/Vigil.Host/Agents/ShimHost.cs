using System.Globalization;

namespace Vigil.Host.Agents;

/// <summary>One queued request from a shim, parsed (pure).</summary>
public sealed record ShimRequest(string Tool, string Op, string Name, string Value, string Node)
{
    public string Lifetime { get; init; } = "reboot";
    public string Delay { get; init; } = "";
    public string Resource { get; init; } = "";

    public static ShimRequest? Parse(string text)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        string? last = null;
        foreach (var line in text.Split('\n'))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            var key = eq > 0 ? line[..eq] : "";
            if (key is "tool" or "op" or "name" or "node" or "lifetime" or "delay" or "rsc" or "value" && !(last == "value"))
            {
                fields[key] = line[(eq + 1)..];
                last = key;
            }
            else if (last == "value")
            {
                // value is written last, so a value containing newlines keeps its lines.
                fields["value"] += "\n" + line;
            }
        }
        if (fields.TryGetValue("value", out var v) && v.EndsWith('\n')) fields["value"] = v.TrimEnd('\n');
        if (!fields.TryGetValue("tool", out var tool) || !fields.TryGetValue("op", out var op)) return null;
        return new ShimRequest(tool, op, fields.GetValueOrDefault("name", ""), fields.GetValueOrDefault("value", ""), fields.GetValueOrDefault("node", ""))
        {
            Lifetime = fields.GetValueOrDefault("lifetime", "reboot"),
            Delay = fields.GetValueOrDefault("delay", ""),
            Resource = fields.GetValueOrDefault("rsc", ""),
        };
    }

    /// <summary>The attribute update this request stands for; null for queries and unsupported requests.</summary>
    public AttributeUpdate? ToUpdate()
    {
        if (Name.Length == 0 || Node.Length == 0) return null;
        TimeSpan? dampen = null;
        if (Delay.Length > 0 && Core.Duration.TryParse(Delay, out var d)) dampen = d;
        return Op switch
        {
            "set" => new AttributeUpdate(Node, Name, Value) { Dampen = dampen, Lifetime = Lifetime },
            "delete" => new AttributeUpdate(Node, Name, null) { Dampen = dampen, Lifetime = Lifetime },
            "delay" => new AttributeUpdate(Node, Name, null) { Dampen = dampen, Lifetime = Lifetime, DelayOnly = true },
            _ => null,
        };
    }
}

/// <summary>
/// Installs the shims in a private directory and connects them to an <see cref="AttributeStore"/>:
/// applies queued requests in order, publishes current values for the shims' queries, and tells
/// <c>crm_resource --locate</c> where resources run and <c>crm_node -l</c> who the members are.
/// </summary>
public sealed class ShimHost
{
    private readonly string _spool;
    private readonly string _state;
    private readonly TimeProvider _time;
    private readonly object _lock = new();

    public ShimHost(string directory, string nodeName, AttributeStore store, TimeProvider? time = null, string nodeId = "1")
    {
        Directory = directory;
        NodeName = nodeName;
        Store = store;
        _time = time ?? TimeProvider.System;
        _spool = Path.Combine(directory, "spool");
        _state = Path.Combine(directory, "state");
        System.IO.Directory.CreateDirectory(directory);
        System.IO.Directory.CreateDirectory(_spool);
        System.IO.Directory.CreateDirectory(Path.Combine(_state, "attrs"));
        System.IO.Directory.CreateDirectory(Path.Combine(_state, "running"));
        var script = Path.Combine(directory, ShimScript.FileName);
        File.WriteAllText(script, ShimScript.Text(directory, nodeName, nodeId));
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        foreach (var tool in ShimScript.Tools)
        {
            var link = Path.Combine(directory, tool);
            if (File.Exists(link) || new FileInfo(link).LinkTarget is not null) File.Delete(link);
            File.CreateSymbolicLink(link, ShimScript.FileName);
        }
    }

    public string Directory { get; }
    public string NodeName { get; }
    public AttributeStore Store { get; }

    /// <summary>Every request seen, in order (tool, op, name, value, node); for tests and diagnostics.</summary>
    public List<ShimRequest> Log { get; } = [];

    /// <summary>Raised for every attribute change that became visible (after dampening).</summary>
    public event Action<AttributeChange>? Changed;

    /// <summary>Applies queued requests in the order they were made, then any dampened writes that are due.</summary>
    public IReadOnlyList<AttributeChange> Pump()
    {
        lock (_lock)
        {
            var changes = new List<AttributeChange>();
            var now = _time.GetUtcNow();
            var files = System.IO.Directory.GetFiles(_spool, "req.*").Select(f => (File: f, Key: SortKey(f))).OrderBy(x => x.Key.Seq).ThenBy(x => x.Key.Name, StringComparer.Ordinal);
            foreach (var (file, _) in files)
            {
                string text;
                try { text = File.ReadAllText(file); File.Delete(file); }
                catch (IOException) { continue; }
                var req = ShimRequest.Parse(text);
                if (req is null) continue;
                Log.Add(req);
                if (req.ToUpdate() is { } update) changes.AddRange(Store.Update(update, now));
            }
            changes.AddRange(Store.Advance(now));
            Publish();
            foreach (var c in changes) Changed?.Invoke(c);
            return changes;
        }
    }

    /// <summary>
    /// Keeps applying requests and dampened writes until cancelled: every <paramref name="period"/>
    /// (agents in long actions update attributes too), or sooner when a dampened write falls due.
    /// </summary>
    public async Task PumpLoopAsync(TimeSpan period, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Pump();
            var wait = period;
            if (Store.NextDue is DateTimeOffset due)
            {
                var until = due - _time.GetUtcNow();
                if (until < wait) wait = until < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10) : until;
            }
            try { await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Writes the store's current values where the shims read them.</summary>
    private void Publish()
    {
        var attrs = Path.Combine(_state, "attrs");
        var current = Store.CurrentValues().ToHashSet();
        foreach (var (node, name, value) in current)
        {
            var dir = Path.Combine(attrs, node);
            System.IO.Directory.CreateDirectory(dir);
            var path = Path.Combine(dir, name);
            if (File.Exists(path) && File.ReadAllText(path) == value) continue;
            var tmp = path + ".tmp-vigil";
            File.WriteAllText(tmp, value);
            File.Move(tmp, path, overwrite: true);
        }
        // Remove values deleted since (only files the store knows nothing current about).
        foreach (var dir in System.IO.Directory.GetDirectories(attrs))
        {
            var node = Path.GetFileName(dir);
            foreach (var f in System.IO.Directory.GetFiles(dir))
            {
                var name = Path.GetFileName(f);
                if (name.StartsWith('.')) continue;
                if (Store.GetCurrent(node, name) is null && System.IO.Directory.GetFiles(_spool, "req.*").Length == 0) File.Delete(f);
            }
        }
    }

    /// <summary>Tells crm_resource --locate on which nodes <paramref name="resource"/> runs (empty: nowhere).</summary>
    public void SetRunning(string resource, IEnumerable<string> nodes)
    {
        var path = Path.Combine(_state, "running", resource.Split(':')[0]);
        var list = nodes.ToList();
        if (list.Count == 0) { File.Delete(path); return; }
        File.WriteAllText(path, string.Join('\n', list) + "\n");
    }

    /// <summary>The cluster members crm_node -l/-p print.</summary>
    public void SetMembers(IEnumerable<string> nodes) =>
        File.WriteAllText(Path.Combine(_state, "nodes"), string.Join('\n', nodes) + "\n");

    private static (long Seq, string Name) SortKey(string file)
    {
        var name = Path.GetFileName(file);
        var parts = name.Split('.');
        return (parts.Length > 1 && long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : 0, name);
    }
}
