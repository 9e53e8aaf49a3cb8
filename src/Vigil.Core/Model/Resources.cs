namespace Vigil.Core.Model;

/// <summary>Base of every resource: primitive, group, clone (promotable or not).</summary>
public abstract record Resource(string Id)
{
    public string? Description { get; init; }
    public IReadOnlyList<AttributeSet> InstanceAttributes { get; init; } = [];
    public IReadOnlyList<AttributeSet> MetaAttributes { get; init; } = [];
    public IReadOnlyList<AttributeSet> Utilization { get; init; } = [];
    /// <summary>XML attributes the model does not interpret, kept for a lossless round trip.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Extra { get; init; } = [];

    /// <summary>An unconditional meta attribute of this resource itself (not inherited).</summary>
    public string? Meta(string name) => MetaAttributes.Get(name);

    /// <summary>This resource and every resource inside it, depth first, parent before children.</summary>
    public abstract IEnumerable<Resource> SelfAndDescendants();
}

/// <summary>A primitive: one agent instance (ocf:heartbeat:IPaddr2, lsb:apache2, stonith:fence_ipmilan …).</summary>
public sealed record Primitive(string Id, string Class, string? Provider, string Type) : Resource(Id)
{
    /// <summary>Set when the primitive uses an rsc_template (<c>@template</c> in the crm shell).</summary>
    public string? Template { get; init; }
    /// <summary>Resolved operations (a referenced block is copied in at import).</summary>
    public IReadOnlyList<Operation> Operations { get; init; } = [];
    /// <summary>The id of the &lt;operations&gt; element, when it had one.</summary>
    public string? OperationsId { get; init; }
    /// <summary>Set when the operations are a reference to another primitive's block (written back as a reference).</summary>
    public string? OperationsIdRef { get; init; }

    /// <summary>class:provider:type, or class:type when the class has no providers.</summary>
    public string Agent => Provider is null ? $"{Class}:{Type}" : $"{Class}:{Provider}:{Type}";

    public bool IsFencingDevice => Class == "stonith";

    public override IEnumerable<Resource> SelfAndDescendants() { yield return this; }
}

/// <summary>An ordered group of primitives: started in order, stopped in reverse, placed together.</summary>
public sealed record Group(string Id) : Resource(Id)
{
    public IReadOnlyList<Primitive> Children { get; init; } = [];

    public override IEnumerable<Resource> SelfAndDescendants()
    {
        yield return this;
        foreach (var c in Children) yield return c;
    }
}

/// <summary>A clone of a primitive or group; promotable when meta promotable=true or written as legacy <c>master</c>/<c>ms</c>.</summary>
public sealed record Clone(string Id, Resource Child) : Resource(Id)
{
    /// <summary>True when the source wrote the deprecated <c>&lt;master&gt;</c> element (crm: <c>ms</c>).</summary>
    public bool IsLegacyMaster { get; init; }

    public bool IsPromotable => IsLegacyMaster || Truth.IsTrue(Meta("promotable"));

    public override IEnumerable<Resource> SelfAndDescendants()
    {
        yield return this;
        foreach (var r in Child.SelfAndDescendants()) yield return r;
    }
}

/// <summary>A resource kind Vigil preserves but does not run yet (bundle, rsc_template).</summary>
public sealed record UnsupportedResource(string Id, OpaqueElement Element) : Resource(Id)
{
    public override IEnumerable<Resource> SelfAndDescendants() { yield return this; }
}

/// <summary>An operation definition (<c>op monitor interval=30s timeout=20s role=Promoted on-fail=restart</c>).</summary>
public sealed record Operation(string Id, string Name, string Interval)
{
    /// <summary>Every other XML attribute in source order: timeout, role, on-fail, enabled, start-delay, …</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Attributes { get; init; } = [];
    public IReadOnlyList<AttributeSet> InstanceAttributes { get; init; } = [];
    public IReadOnlyList<AttributeSet> MetaAttributes { get; init; } = [];

    public string? Attribute(string name)
    {
        foreach (var kv in Attributes)
            if (kv.Key == name) return kv.Value;
        return MetaAttributes.Get(name);
    }

    public TimeSpan IntervalValue => Duration.TryParse(Interval, out var v) ? v : TimeSpan.Zero;
    public string? Role => Attribute("role");
    public string? OnFail => Attribute("on-fail");
    public string? Timeout => Attribute("timeout");
    public bool Enabled => !Truth.IsFalse(Attribute("enabled"));
}

/// <summary>Pacemaker's boolean spellings (crm_is_true).</summary>
public static class Truth
{
    public static bool IsTrue(string? v) => v is not null && v.Trim().ToLowerInvariant() is "true" or "on" or "yes" or "y" or "1";
    public static bool IsFalse(string? v) => v is not null && v.Trim().ToLowerInvariant() is "false" or "off" or "no" or "n" or "0";
    public static bool IsBoolean(string? v) => IsTrue(v) || IsFalse(v);
}
