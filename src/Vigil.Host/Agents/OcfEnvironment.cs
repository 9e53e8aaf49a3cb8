using System.Globalization;

namespace Vigil.Host.Agents;

/// <summary>Where the executor's helpers live; fixed per node.</summary>
public sealed record ExecutorPaths
{
    public string OcfRoot { get; init; } = "/usr/lib/ocf";
    public string InitDir { get; init; } = "/etc/init.d";
    public string FenceAgentDir { get; init; } = "/usr/sbin";
    /// <summary>Private directory holding the crm_attribute/attrd_updater/… shims; prepended to PATH and set as HA_SBIN_DIR.</summary>
    public string? ShimDir { get; init; }
    /// <summary>HA_RSCTMP: agents keep pid and state files there; it must exist (systemd-tmpfiles makes it on systemd hosts).</summary>
    public string ResourceTmpDir { get; init; } = "/run/resource-agents";
    /// <summary>State of the built-in vigil: agents.</summary>
    public string NativeStateDir { get; init; } = "/run/vigil/agents";
    public string BasePath { get; init; } = "/usr/sbin:/usr/bin:/sbin:/bin";
}

/// <summary>Builds the environment an agent runs with, exactly in the shape Pacemaker's executor uses (pure).</summary>
public static class OcfEnvironment
{
    /// <summary>The feature set Pacemaker 2.1.5 reports; ocf_promotion_score picks crm_attribute -p when it is ≥ 3.10.0.</summary>
    public const string FeatureSet = "3.16.1";
    public const string ExitReasonPrefix = "ocf-exit-reason:";

    /// <summary>The clean base every agent class gets: PATH (shims first) and logging kept off syslog.</summary>
    public static Dictionary<string, string> Base(ExecutorPaths paths)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = paths.ShimDir is null ? paths.BasePath : $"{paths.ShimDir}:{paths.BasePath}",
            ["LC_ALL"] = "C",
            // ocf_log then writes to stderr only, which the executor captures.
            ["HA_LOGFACILITY"] = "none",
            ["HA_logfacility"] = "none",
            ["HA_debug"] = "0",
            ["PCMK_logfacility"] = "none",
            ["PCMK_service"] = "vigil-executor",
            ["HA_RSCTMP"] = paths.ResourceTmpDir,
        };
        if (paths.ShimDir is not null) env["HA_SBIN_DIR"] = paths.ShimDir;
        return env;
    }

    /// <summary>The full OCF environment for <paramref name="a"/>.</summary>
    public static Dictionary<string, string> Build(AgentAction a, ExecutorPaths paths)
    {
        var env = Base(paths);
        env["OCF_ROOT"] = paths.OcfRoot;
        env["OCF_RA_VERSION_MAJOR"] = "1";
        env["OCF_RA_VERSION_MINOR"] = "1";
        env["OCF_EXIT_REASON_PREFIX"] = ExitReasonPrefix;
        env["OCF_RESOURCE_INSTANCE"] = a.ResourceId;
        env["OCF_RESOURCE_TYPE"] = a.Agent.Type;
        if (a.Agent.Provider is not null) env["OCF_RESOURCE_PROVIDER"] = a.Agent.Provider;
        foreach (var (k, v) in a.Parameters)
            env["OCF_RESKEY_" + k] = v;
        // An explicit crm_feature_set parameter wins (lets tests and users exercise agents' pre-3.10 code paths).
        env.TryAdd("OCF_RESKEY_crm_feature_set", FeatureSet);
        foreach (var (k, v) in Meta(a))
            env["OCF_RESKEY_CRM_meta_" + k] = v;
        if (a.CheckLevel is int level) env["OCF_CHECK_LEVEL"] = level.ToString(CultureInfo.InvariantCulture);
        return env;
    }

    /// <summary>The CRM_meta_* values (names without the prefix, '-' → '_', times in ms).</summary>
    public static SortedDictionary<string, string> Meta(AgentAction a)
    {
        var meta = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in a.Meta)
            meta[k.Replace('-', '_')] = v;
        meta["name"] = a.Action;
        meta["interval"] = a.IntervalMs.ToString(CultureInfo.InvariantCulture);
        meta["timeout"] = ((long)a.Timeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        if (a.NodeName.Length > 0) meta["on_node"] = a.NodeName;
        if (a.NodeUuid is not null) meta["on_node_uuid"] = a.NodeUuid;
        if (a.TargetRc is int rc) meta["op_target_rc"] = rc.ToString(CultureInfo.InvariantCulture);
        return meta;
    }
}
