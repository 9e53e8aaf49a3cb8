namespace Vigil.Config.Validation;

/// <summary>Cluster properties and resource meta attributes Pacemaker 2.1 knows, with a value check each.</summary>
internal static class KnownOptions
{
    internal enum Kind { Boolean, Score, Integer, NonNegativeInteger, Duration, Text, Choice, Role }

    internal sealed record Option(string Name, Kind Kind, params string[] Choices);

    internal static readonly Dictionary<string, Option> Properties = new Option[]
    {
        new("stonith-enabled", Kind.Boolean), new("no-quorum-policy", Kind.Choice, "stop", "freeze", "ignore", "demote", "suicide", "fence"),
        new("symmetric-cluster", Kind.Boolean), new("maintenance-mode", Kind.Boolean), new("stop-all-resources", Kind.Boolean),
        new("stonith-action", Kind.Choice, "reboot", "off", "poweroff"), new("stonith-timeout", Kind.Duration),
        new("stonith-max-attempts", Kind.Integer), new("stonith-watchdog-timeout", Kind.Text), new("concurrent-fencing", Kind.Boolean),
        new("priority-fencing-delay", Kind.Duration), new("startup-fencing", Kind.Boolean), new("fence-reaction", Kind.Choice, "stop", "panic"),
        new("cluster-delay", Kind.Duration), new("batch-limit", Kind.Integer), new("migration-limit", Kind.Integer),
        new("stop-orphan-resources", Kind.Boolean), new("stop-orphan-actions", Kind.Boolean), new("start-failure-is-fatal", Kind.Boolean),
        new("enable-startup-probes", Kind.Boolean), new("shutdown-lock", Kind.Boolean), new("shutdown-lock-limit", Kind.Duration),
        new("placement-strategy", Kind.Choice, "default", "utilization", "minimal", "balanced"),
        new("node-health-strategy", Kind.Choice, "none", "migrate-on-red", "only-green", "progressive", "custom"),
        new("node-health-base", Kind.Integer), new("node-health-green", Kind.Score), new("node-health-yellow", Kind.Score), new("node-health-red", Kind.Score),
        new("cluster-recheck-interval", Kind.Duration), new("dc-deadtime", Kind.Duration), new("election-timeout", Kind.Duration),
        new("shutdown-escalation", Kind.Duration), new("join-integration-timeout", Kind.Duration), new("join-finalization-timeout", Kind.Duration),
        new("transition-delay", Kind.Duration), new("pe-error-series-max", Kind.Integer), new("pe-warn-series-max", Kind.Integer),
        new("pe-input-series-max", Kind.Integer), new("load-threshold", Kind.Text), new("node-action-limit", Kind.Integer),
        new("cluster-ipc-limit", Kind.Integer), new("enable-acl", Kind.Boolean), new("remove-after-stop", Kind.Boolean),
        new("have-watchdog", Kind.Boolean), new("dc-version", Kind.Text), new("cluster-infrastructure", Kind.Text), new("cluster-name", Kind.Text),
        new("expected-quorum-votes", Kind.Integer), new("last-lrm-refresh", Kind.Text), new("default-resource-stickiness", Kind.Score),
        new("is-managed-default", Kind.Boolean), new("default-action-timeout", Kind.Duration), new("no-quorum-policy-timeout", Kind.Duration),
        new("crmd-transition-delay", Kind.Duration), new("maintenance", Kind.Boolean),
    }.ToDictionary(o => o.Name);

    internal static readonly Dictionary<string, Option> ResourceMeta = new Option[]
    {
        new("priority", Kind.Integer), new("critical", Kind.Boolean), new("target-role", Kind.Role), new("is-managed", Kind.Boolean),
        new("maintenance", Kind.Boolean), new("resource-stickiness", Kind.Score), new("requires", Kind.Choice, "nothing", "quorum", "fencing", "unfencing"),
        new("migration-threshold", Kind.Score), new("failure-timeout", Kind.Duration), new("multiple-active", Kind.Choice, "block", "stop_only", "stop_start", "stop_unexpected"),
        new("allow-migrate", Kind.Boolean), new("allow-unhealthy-nodes", Kind.Boolean), new("container-attribute-target", Kind.Text),
        new("remote-node", Kind.Text), new("remote-addr", Kind.Text), new("remote-port", Kind.Integer), new("remote-connect-timeout", Kind.Duration),
        new("remote-allow-migrate", Kind.Boolean), new("description", Kind.Text),
        // clones
        new("globally-unique", Kind.Boolean), new("clone-max", Kind.NonNegativeInteger), new("clone-node-max", Kind.NonNegativeInteger),
        new("clone-min", Kind.NonNegativeInteger), new("notify", Kind.Boolean), new("ordered", Kind.Boolean), new("interleave", Kind.Boolean),
        new("promotable", Kind.Boolean), new("promoted-max", Kind.NonNegativeInteger), new("promoted-node-max", Kind.NonNegativeInteger),
        new("master-max", Kind.NonNegativeInteger), new("master-node-max", Kind.NonNegativeInteger),
        // groups and legacy
        new("restart-type", Kind.Text), new("resource-failure-stickiness", Kind.Score), new("timeout", Kind.Duration),
    }.ToDictionary(o => o.Name);

    internal static readonly Dictionary<string, Option> OperationDefaults = new Option[]
    {
        new("timeout", Kind.Duration), new("interval", Kind.Duration), new("record-pending", Kind.Boolean), new("on-fail", Kind.Text),
        new("enabled", Kind.Boolean), new("start-delay", Kind.Duration), new("requires", Kind.Text), new("role", Kind.Role),
        new("interval-origin", Kind.Text), new("description", Kind.Text),
    }.ToDictionary(o => o.Name);
}
