using System.Collections;
using System.Runtime.CompilerServices;
using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Scheduler;

/// <summary>A cluster node as the scheduler sees it during one run.</summary>
internal sealed class NodeInfo(int index, string id, string uname)
{
    public int Index { get; } = index;
    public string Id { get; } = id;
    public string Uname { get; } = uname;
    public bool Online { get; set; }
    public bool Unclean { get; set; }
    public bool Standby { get; set; }
    public bool Maintenance { get; set; }
    public bool Shutdown { get; set; }
    public bool Pending { get; set; }
    public bool Unseen { get; set; } = true;
    public bool ExpectedUp { get; set; }
    /// <summary>Set when this run fences the node.</summary>
    public bool Fenced { get; set; }
    public Dictionary<string, string> Attributes { get; } = new(StringComparer.Ordinal);
    /// <summary>Resources assigned so far: the default placement strategy prefers the less loaded node.</summary>
    public int AssignedCount { get; set; }

    // Capacity and use per utilization attribute, by the engine's number for the attribute (Engine.UtilKey):
    // arrays, not dictionaries, because placement compares them for every resource and node.
    private long[] _capacity = [];
    private bool[] _defines = [];
    private long[] _used = [];
    public long CapacityOf(int key) => key < _capacity.Length ? _capacity[key] : 0;
    public bool DefinesCapacity(int key) => key < _defines.Length && _defines[key];
    public long UsedOf(int key) => key < _used.Length ? _used[key] : 0;
    public void SetCapacity(int key, long value)
    {
        Fit(ref _capacity, key);
        Fit(ref _defines, key);
        _capacity[key] = value;
        _defines[key] = true;
    }
    public void AddUse(int key, long value)
    {
        Fit(ref _used, key);
        _used[key] += value;
    }
    private static void Fit<T>(ref T[] array, int key)
    {
        if (key >= array.Length) Array.Resize(ref array, Math.Max(key + 1, 4));
    }

    /// <summary>Whether the node can run resources at all (online, not shutting down, clean, not in standby or maintenance).</summary>
    public bool CanRunResources => Online && !Shutdown && !Unclean && !Standby && !Maintenance && !Pending;

    public string? Attribute(string name) => Attributes.TryGetValue(name, out var v) ? v : null;

    public override string ToString() => Uname;
}

internal enum RscKind { Primitive, Group, Clone }

/// <summary>
/// A resource during one run: a primitive, a group, a clone, or one instance of a clone (a primitive
/// or group copy named <c>id:N</c>). Score tables are arrays indexed by node; <see cref="Absent"/>
/// marks a node the resource is not allowed on at all (asymmetric clusters).
/// </summary>
internal sealed class Rsc(string id, RscKind kind, Resource config)
{
    public const int Absent = int.MinValue;

    public string Id { get; } = id;
    public RscKind Kind { get; } = kind;
    public Resource Config { get; } = config;
    public Primitive? Prim => Config as Primitive;
    public Rsc? Parent { get; set; }
    public List<Rsc> Children { get; } = [];
    public Dictionary<string, string> Meta { get; set; } = new(StringComparer.Ordinal);

    public int Priority { get; set; }
    public int Stickiness { get; set; }
    public int MigrationThreshold { get; set; } = Score.InfinityValue;
    public long FailureTimeoutS { get; set; }
    public bool Managed { get; set; } = true;
    public bool Unique { get; set; } = true;
    public bool Orphan { get; set; }
    public bool Blocked { get; set; }
    public bool Failed { get; set; }
    public bool IsFencing => Prim?.IsFencingDevice == true;
    public Role? TargetRole { get; set; }

    // clone settings
    public bool Promotable { get; set; }
    public int CloneMax { get; set; }
    public int CloneNodeMax { get; set; } = 1;
    public int PromotedMax { get; set; } = 1;
    public int PromotedNodeMax { get; set; } = 1;
    public bool Interleave { get; set; }
    public bool Ordered { get; set; }
    public bool Notify { get; set; }
    public bool GloballyUnique { get; set; }
    // group settings
    public bool Colocated { get; set; } = true;

    // state from the status section
    public List<NodeInfo> RunningOn { get; } = [];
    public Role Role { get; set; } = Role.Stopped;
    public Role NextRole { get; set; } = Role.Unknown;
    /// <summary>Nodes where a failed stop left the resource in an unknown state.</summary>
    public HashSet<int> StopFailedOn { get; } = [];
    /// <summary>Nodes whose history (probe or otherwise) says something about this resource.</summary>
    public HashSet<int> KnownOn { get; } = [];
    /// <summary>Nodes where the resource must be stopped because of a failure (on-fail=restart/stop…).</summary>
    public HashSet<int> RecoverOn { get; } = [];
    /// <summary>Nodes whose history holds the failure that marks this resource failed.</summary>
    public HashSet<int> FailedOn { get; } = [];
    public Dictionary<int, Role> RoleOn { get; } = [];
    public int PromotionPriority { get; set; }
    public int SortIndex { get; set; }
    public int[] Counts { get; set; } = [];
    public bool FailureIgnored { get; set; }
    public bool StartPending { get; set; }

    // scheduling
    public int[] Allowed { get; set; } = [];
    public bool Provisional { get; set; } = true;
    public bool Allocating { get; set; }
    public bool Merging { get; set; }
    public NodeInfo? AllocatedTo { get; set; }
    public List<Coloc> ColocAsDependent { get; } = [];
    public List<Coloc> ColocAsPrimary { get; } = [];
    public int Index { get; set; }
    /// <summary>This resource's actions by task. A resource has a handful of tasks, so a list searched
    /// in order is cheaper than one dictionary keyed by (resource, task) for 350,000 actions.</summary>
    public List<(string Task, List<Act> Acts)> ActsByTask { get; } = [];
    /// <summary>Instance number inside a clone, -1 otherwise.</summary>
    public int InstanceNo { get; set; } = -1;

    public Rsc Top { get { var r = this; while (r.Parent is not null) r = r.Parent; return r; } }
    public bool IsCloneInstance => Parent is { Kind: RscKind.Clone };
    public Rsc? CloneParent { get { for (var p = Parent; p is not null; p = p.Parent) if (p.Kind == RscKind.Clone) return p; return null; } }
    public NodeInfo? CurrentNode => RunningOn.Count > 0 ? RunningOn[0] : null;

    /// <summary>This resource if it is a primitive, else the primitives below it, in configuration order.</summary>
    public PrimitiveList Primitives() => new(this);

    public string? MetaValue(string name) => Meta.TryGetValue(name, out var v) ? v : null;

    public override string ToString() => Id;
}

/// <summary>A colocation between two resources: <see cref="Dependent"/> is placed relative to <see cref="Primary"/>.</summary>
internal sealed record Coloc(string Id, Rsc Dependent, Rsc Primary, int Score)
{
    public Role DependentRole { get; init; } = Role.Unknown;
    public Role PrimaryRole { get; init; } = Role.Unknown;
    public string NodeAttribute { get; init; } = "#uname";
    public bool Influence { get; init; } = true;
}

internal enum OrderKind { Mandatory, Optional, Serialize }

/// <summary>An ordering between resource actions from a constraint (or implied by a group).</summary>
internal sealed record OrderSpec(string Id, Rsc First, string FirstAction, Rsc Then, string ThenAction, OrderKind Kind)
{
    public bool Symmetrical { get; init; } = true;
    public bool OneOrMore { get; init; }
}

/// <summary>
/// The primitives of a resource (<see cref="Rsc.Primitives"/>), walked without allocating. It was a
/// recursive iterator: one object per call and level, 37 MB at 10,000 resources in placement and
/// actions, which the garbage collector paid for. Use in foreach, Any and All allocates nothing; other
/// LINQ operators box it.
/// </summary>
internal readonly struct PrimitiveList(Rsc root) : IEnumerable<Rsc>
{
    public Enumerator GetEnumerator() => new(root);
    IEnumerator<Rsc> IEnumerable<Rsc>.GetEnumerator() => GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Any(Func<Rsc, bool> predicate)
    {
        foreach (var p in this) if (predicate(p)) return true;
        return false;
    }

    public bool All(Func<Rsc, bool> predicate)
    {
        foreach (var p in this) if (!predicate(p)) return false;
        return true;
    }

    /// <summary>Depth-first over the children lists; a clone holds groups that hold primitives, so the
    /// path below the root is at most two lists deep (four are kept).</summary>
    public struct Enumerator(Rsc root) : IEnumerator<Rsc>
    {
        [InlineArray(4)]
        private struct Path { private (Rsc Rsc, int Next) _level; }

        private Path _path;
        private int _depth = -1;
        private bool _started;

        public Rsc Current { get; private set; } = null!;
        readonly object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            if (!_started)
            {
                _started = true;
                if (root.Kind == RscKind.Primitive) { Current = root; return true; }
                _path[0] = (root, 0);
                _depth = 0;
            }
            while (_depth >= 0)
            {
                var (rsc, next) = _path[_depth];
                if (next >= rsc.Children.Count) { _depth--; continue; }
                _path[_depth] = (rsc, next + 1);
                var child = rsc.Children[next];
                if (child.Kind == RscKind.Primitive) { Current = child; return true; }
                if (_depth + 1 >= 4) throw new InvalidOperationException($"resource '{root.Id}' is nested deeper than a clone of groups");
                _path[++_depth] = (child, 0);
            }
            return false;
        }

        public void Reset() => throw new NotSupportedException();
        public readonly void Dispose() { }
    }
}
