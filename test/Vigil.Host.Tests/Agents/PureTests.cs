using System.Collections.Immutable;
using Vigil.Host.Agents;

namespace Vigil.Host.Tests.Agents;

public sealed class ResultMappingTests
{
    private static OperationOutcome Remap(string action, long interval, int rc, int? target = null, ExecStatus status = ExecStatus.Done) =>
        ResultMapping.Remap(action, interval, target ?? (action == "monitor" && interval == 0 ? 7 : 0), rc, status);

    [Theory]
    [InlineData(OcfCode.ErrInstalled)]
    [InlineData(OcfCode.ErrArgs)]
    public void A_probe_that_finds_the_software_missing_or_the_arguments_invalid_means_not_running(int rc)
    {
        var o = Remap("monitor", 0, rc);
        Assert.True(o.MaskedProbe);
        Assert.Equal(OcfCode.NotRunning, o.Rc);
        Assert.Equal(ExecStatus.Done, o.Status);
        Assert.Equal(Recovery.None, o.Recovery);
    }

    [Fact]
    public void The_same_codes_on_a_recurring_monitor_are_hard_failures()
    {
        Assert.Equal(Recovery.Hard, Remap("monitor", 10_000, OcfCode.ErrInstalled).Recovery);
        Assert.Equal(Recovery.Hard, Remap("monitor", 10_000, OcfCode.ErrArgs).Recovery);
        Assert.Equal(Recovery.Hard, Remap("start", 0, OcfCode.ErrPerm).Recovery);
    }

    [Fact]
    public void A_generic_error_is_a_soft_failure_that_restarts_in_place()
    {
        var o = Remap("monitor", 10_000, OcfCode.ErrGeneric);
        Assert.Equal(Recovery.Soft, o.Recovery);
        Assert.Equal(ExecStatus.Error, o.Status);
    }

    [Fact]
    public void Not_configured_is_fatal() => Assert.Equal(Recovery.Fatal, Remap("start", 0, OcfCode.ErrConfigured).Recovery);

    [Fact]
    public void Unimplemented_is_hard_for_one_shot_actions_and_not_supported_for_recurring_ones()
    {
        Assert.Equal(Recovery.Hard, Remap("reload", 0, OcfCode.ErrUnimplemented).Recovery);
        var recurring = Remap("monitor", 10_000, OcfCode.ErrUnimplemented);
        Assert.Equal(ExecStatus.NotSupported, recurring.Status);
        Assert.Equal(Recovery.None, recurring.Recovery);
        Assert.False(recurring.IsFailure);
    }

    [Fact]
    public void A_probe_finding_the_resource_active_or_promoted_is_not_a_failure()
    {
        Assert.Equal(ObservedRole.Started, Remap("monitor", 0, 0).Role);
        Assert.False(Remap("monitor", 0, 0).IsFailure);
        Assert.Equal(ObservedRole.Promoted, Remap("monitor", 0, 8).Role);
        Assert.False(Remap("monitor", 0, 8).IsFailure);
    }

    [Fact]
    public void Not_running_where_running_was_expected_is_a_soft_failure() =>
        Assert.Equal(Recovery.Soft, Remap("monitor", 10_000, OcfCode.NotRunning).Recovery);

    [Fact]
    public void Promoted_monitors_expect_8_and_treat_0_as_a_failure()
    {
        Assert.False(Remap("monitor", 5_000, 8, target: 8).IsFailure);
        Assert.Equal(Recovery.Soft, Remap("monitor", 5_000, 0, target: 8).Recovery);
        var failed = Remap("monitor", 5_000, OcfCode.FailedPromoted, target: 8);
        Assert.Equal(ObservedRole.Promoted, failed.Role);
        Assert.Equal(Recovery.Soft, failed.Recovery);
    }

    [Fact]
    public void Degraded_results_count_as_their_healthy_counterparts()
    {
        var d = Remap("monitor", 10_000, OcfCode.Degraded);
        Assert.False(d.IsFailure);
        Assert.True(d.Degraded);
        Assert.Equal(0, d.Rc);
        var dp = Remap("monitor", 10_000, OcfCode.DegradedPromoted, target: 8);
        Assert.Equal(8, dp.Rc);
        Assert.Equal(ObservedRole.Promoted, dp.Role);
    }

    [Theory]
    [InlineData(126)]
    [InlineData(127)]
    [InlineData(137)]
    [InlineData(102)]
    public void Unknown_exit_codes_are_soft_failures(int rc) => Assert.Equal(Recovery.Soft, Remap("start", 0, rc).Recovery);

    [Fact]
    public void Timeouts_keep_their_status()
    {
        var o = Remap("stop", 0, 1, status: ExecStatus.Timeout);
        Assert.Equal(ExecStatus.Timeout, o.Status);
        Assert.True(o.IsFailure);
    }

    [Fact]
    public void Exit_reason_is_the_text_after_the_last_marker_on_stderr()
    {
        Assert.Equal("b", ExitReason.FromStderr("x\nocf-exit-reason:a\nocf-exit-reason: b \ny\n"));
        Assert.Null(ExitReason.FromStderr("nothing here\n"));
        Assert.Equal("9 GB redirected to /dev/null", ExitReason.FromStderr("Stateful[1]: ERROR: ocf-exit-reason:9 GB redirected to /dev/null"));
    }
}

public sealed class EnvironmentTests
{
    [Fact]
    public void Meta_names_use_underscores_and_times_are_in_milliseconds()
    {
        var a = new AgentAction(new AgentId(AgentClass.Ocf, "heartbeat", "IPaddr2"), "ip", "monitor")
        {
            Interval = TimeSpan.FromSeconds(30),
            Timeout = TimeSpan.FromSeconds(20),
            Parameters = ImmutableDictionary<string, string>.Empty.Add("ip", "10.250.0.5"),
            NodeName = "node1",
        }.WithMeta("on-fail", "restart").WithMeta("start-delay", "0");
        var env = OcfEnvironment.Build(a, new ExecutorPaths { ShimDir = "/run/vigil/shim" });
        Assert.Equal("30000", env["OCF_RESKEY_CRM_meta_interval"]);
        Assert.Equal("20000", env["OCF_RESKEY_CRM_meta_timeout"]);
        Assert.Equal("restart", env["OCF_RESKEY_CRM_meta_on_fail"]);
        Assert.Equal("0", env["OCF_RESKEY_CRM_meta_start_delay"]);
        Assert.Equal("10.250.0.5", env["OCF_RESKEY_ip"]);
        Assert.Equal("/usr/lib/ocf", env["OCF_ROOT"]);
        Assert.Equal("3.16.1", env["OCF_RESKEY_crm_feature_set"]);
        Assert.Equal("/run/vigil/shim", env["HA_SBIN_DIR"]);
        Assert.StartsWith("/run/vigil/shim:", env["PATH"], StringComparison.Ordinal);
        Assert.False(env.ContainsKey("OCF_CHECK_LEVEL"));
    }

    [Fact]
    public void Promotable_clones_get_both_the_new_and_the_legacy_names()
    {
        var meta = CloneMeta.For(0, 2, promotedMax: 1);
        Assert.Equal("1", meta["promoted_max"]);
        Assert.Equal("1", meta["master_max"]);
        Assert.Equal("1", meta["promoted_node_max"]);
        Assert.Equal("1", meta["master_node_max"]);
        Assert.Equal("false", meta["globally_unique"]);
        Assert.False(CloneMeta.For(0, 2).ContainsKey("master_max"));
    }

    [Fact]
    public void Notifications_carry_every_list_in_both_spellings_and_empty_lists_are_a_space()
    {
        var n = CloneMeta.Notify("pre", "promote", new NotifyLists
        {
            Promote = [("fake:0", "n1")],
            Unpromoted = [("fake:0", "n1"), ("fake:1", "n2")],
            AllNodes = ["n1", "n2"],
        });
        Assert.Equal("fake:0", n["notify_promote_resource"]);
        Assert.Equal("n1", n["notify_promote_uname"]);
        Assert.Equal("fake:0 fake:1", n["notify_unpromoted_resource"]);
        Assert.Equal("fake:0 fake:1", n["notify_slave_resource"]);
        Assert.Equal("n1 n2", n["notify_slave_uname"]);
        Assert.Equal(" ", n["notify_master_resource"]);
        Assert.Equal(" ", n["notify_promoted_uname"]);
        Assert.Equal(" ", n["notify_inactive_resource"]);
        Assert.Equal("pre", n["notify_type"]);
        Assert.Equal("promote", n["notify_key_operation"]);
    }

    [Theory]
    [InlineData("ocf:heartbeat:IPaddr2", AgentClass.Ocf, "heartbeat", "IPaddr2")]
    [InlineData("lsb:apache2", AgentClass.Lsb, null, "apache2")]
    [InlineData("stonith:fence_dummy", AgentClass.Stonith, null, "fence_dummy")]
    [InlineData("vigil:Dummy", AgentClass.Vigil, null, "Dummy")]
    [InlineData("OCF:pacemaker:Stateful", AgentClass.Ocf, "pacemaker", "Stateful")]
    public void Agent_names_parse(string text, AgentClass cls, string? provider, string type)
    {
        Assert.True(AgentId.TryParse(text, out var id, out var error), error);
        Assert.Equal(new AgentId(cls, provider, type), id);
    }

    [Theory]
    [InlineData("ocf:Dummy", "needs a provider")]
    [InlineData("lsb:x:y", "has no provider")]
    [InlineData("bogus:x", "unknown agent class")]
    [InlineData("ocf:../..:x", "plain name")]
    [InlineData("", "empty")]
    public void Bad_agent_names_say_what_to_write(string text, string expected)
    {
        Assert.False(AgentId.TryParse(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }
}

public sealed class LsbMappingTests
{
    [Theory]
    [InlineData(0, OcfCode.Success)]
    [InlineData(1, OcfCode.NotRunning)]
    [InlineData(2, OcfCode.NotRunning)]
    [InlineData(3, OcfCode.NotRunning)]
    [InlineData(4, OcfCode.ErrGeneric)]
    [InlineData(150, OcfCode.ErrInstalled)]
    [InlineData(151, OcfCode.ErrPerm)]
    public void Status_codes_map_like_Pacemaker(int lsb, int ocf) => Assert.Equal(ocf, LsbMapping.ToOcf("monitor", lsb));

    [Theory]
    [InlineData(0, 0)]
    [InlineData(5, 5)]
    [InlineData(7, 7)]
    [InlineData(8, 1)]
    [InlineData(255, 1)]
    public void Other_actions_pass_0_to_7_through_and_map_the_rest_to_a_generic_error(int lsb, int ocf) =>
        Assert.Equal(ocf, LsbMapping.ToOcf("start", lsb));

    [Fact]
    public void Monitor_runs_status() => Assert.Equal("status", LsbMapping.ScriptAction("monitor"));

    [Fact]
    public void Synthesised_meta_data_parses_back()
    {
        var xml = LsbMapping.MetadataXml("demo", "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: demo\n# Short-Description: A <demo>\n### END INIT INFO\n");
        Assert.True(MetadataParser.TryParse(xml, out var md, out var error), error);
        Assert.Equal("A <demo>", md.ShortDescription);
        Assert.True(md.HasAction("monitor"));
    }
}

public sealed class FenceArgsTests
{
    private static readonly AgentMetadata WithPort = new("fence_ipmilan") { Parameters = [new AgentParameter("port"), new AgentParameter("ip")] };
    private static readonly AgentMetadata WithPlug = new("fence_x") { Parameters = [new AgentParameter("plug")] };
    private static readonly AgentMetadata NoPort = new("fence_dummy") { Parameters = [new AgentParameter("status_file")] };

    [Fact]
    public void Stdin_has_the_action_the_target_mapped_through_the_host_map_and_every_device_parameter_except_pcmk_ones()
    {
        var device = new FenceDevice("st", "fence_ipmilan")
        {
            Parameters = new Dictionary<string, string>
            {
                ["ip"] = "10.250.0.9", ["username"] = "admin", ["password"] = "pw",
                ["pcmk_host_map"] = "node1:1;node2:2,3", ["pcmk_delay_base"] = "5s", ["CRM_meta_timeout"] = "20000",
            },
        };
        var text = FenceArgs.StdinText(FenceArgs.Build(device, "off", "node2", WithPort));
        Assert.Equal("action=off\nnodename=node2\nport=2,3\nip=10.250.0.9\npassword=pw\nusername=admin\n", text);
    }

    [Fact]
    public void The_host_argument_is_plug_when_the_agent_has_no_port_and_absent_when_it_has_neither()
    {
        var device = new FenceDevice("st", "fence_x");
        Assert.Contains(FenceArgs.Build(device, "reboot", "n1", WithPlug), kv => kv.Key == "plug" && kv.Value == "n1");
        Assert.DoesNotContain(FenceArgs.Build(device, "reboot", "n1", NoPort), kv => kv.Key is "plug" or "port");
    }

    [Fact]
    public void Per_action_overrides_and_pcmk_host_argument_are_honoured()
    {
        var device = new FenceDevice("st", "fence_x")
        {
            Parameters = new Dictionary<string, string> { ["pcmk_reboot_action"] = "off", ["pcmk_host_argument"] = "uuid" },
        };
        var lines = FenceArgs.Build(device, "reboot", "n1", WithPort);
        Assert.Equal(new("action", "off"), lines[0]);
        Assert.Contains(lines, kv => kv.Key == "uuid" && kv.Value == "n1");
    }

    [Fact]
    public void Password_scripts_are_passed_to_the_agent_and_passwords_are_redacted_in_logs()
    {
        var device = new FenceDevice("st", "fence_ipmilan")
        {
            Parameters = new Dictionary<string, string> { ["passwd_script"] = "/etc/vigil/ipmi-pass", ["passwd"] = "s3cret!", ["login"] = "root" },
        };
        var lines = FenceArgs.Build(device, "status", "n1", WithPort);
        Assert.Contains(lines, kv => kv.Key == "passwd_script" && kv.Value == "/etc/vigil/ipmi-pass");
        var log = FenceArgs.Redacted(lines);
        Assert.DoesNotContain("s3cret!", log, StringComparison.Ordinal);
        Assert.Contains("passwd=******", log, StringComparison.Ordinal);
        Assert.Contains("passwd_script=/etc/vigil/ipmi-pass", log, StringComparison.Ordinal);
        Assert.Equal("login failed for ****** at host", FenceArgs.Scrub("login failed for s3cret! at host", device.Parameters));
    }

    [Fact]
    public void Newlines_in_values_cannot_inject_arguments() =>
        Assert.Equal("action=off\nx=abcaction=on\n", FenceArgs.StdinText([new("action", "off"), new("x", "abc\naction=on")]));

    [Fact]
    public void Exit_code_2_means_off_only_for_status_and_monitor()
    {
        Assert.Equal(FenceOutcome.Off, FenceArgs.Outcome("status", 2));
        Assert.Equal(FenceOutcome.Failed, FenceArgs.Outcome("off", 2));
        Assert.Equal(FenceOutcome.Success, FenceArgs.Outcome("reboot", 0));
        Assert.Equal(FenceOutcome.Failed, FenceArgs.Outcome("reboot", 1));
    }

    [Fact]
    public void Host_maps_accept_the_documented_separators()
    {
        var map = Vigil.Control.FencePlanner.ParseNodeMap("node1:1;node2=2 node3:3,4");
        Assert.Equal("1", map["node1"]);
        Assert.Equal("2", map["node2"]);
        Assert.Equal("3,4", map["node3"]);
    }
}

public sealed class AttributeStoreTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void An_undampened_update_is_visible_at_once()
    {
        var s = new AttributeStore();
        var changes = s.Update(new AttributeUpdate("n1", "pingd", "1000"), T0);
        Assert.Equal([new AttributeChange("n1", "pingd", null, "1000")], changes);
        Assert.Equal("1000", s.Get("n1", "pingd"));
    }

    [Fact]
    public void A_dampened_value_is_written_once_after_the_delay_from_the_first_change()
    {
        var s = new AttributeStore();
        var d = TimeSpan.FromSeconds(5);
        Assert.Empty(s.Update(new AttributeUpdate("n1", "pingd", "1000") { Dampen = d }, T0));
        Assert.Empty(s.Update(new AttributeUpdate("n1", "pingd", "0") { Dampen = d }, T0.AddSeconds(2)));
        Assert.Empty(s.Update(new AttributeUpdate("n1", "pingd", "1000") { Dampen = d }, T0.AddSeconds(4)));
        Assert.Null(s.Get("n1", "pingd"));
        Assert.Equal("1000", s.GetCurrent("n1", "pingd"));
        Assert.Equal(T0.AddSeconds(5), s.NextDue);
        Assert.Equal([new AttributeChange("n1", "pingd", null, "1000")], s.Advance(T0.AddSeconds(5)));
        Assert.Null(s.NextDue);
    }

    [Fact]
    public void A_flap_that_returns_to_the_written_value_before_the_delay_changes_nothing()
    {
        var s = new AttributeStore();
        s.Update(new AttributeUpdate("n1", "pingd", "1000"), T0);
        var d = TimeSpan.FromSeconds(5);
        s.Update(new AttributeUpdate("n1", "pingd", "0") { Dampen = d }, T0.AddSeconds(1));
        s.Update(new AttributeUpdate("n1", "pingd", "1000") { Dampen = d }, T0.AddSeconds(2));
        Assert.Empty(s.Advance(T0.AddSeconds(10)));
        Assert.Equal("1000", s.Get("n1", "pingd"));
    }

    [Fact]
    public void Delete_removes_the_value_and_promotion_names_drop_the_clone_suffix()
    {
        var s = new AttributeStore();
        s.Update(new AttributeUpdate("n1", AttributeStore.PromotionName("db:1"), "10"), T0);
        Assert.Equal("10", s.Get("n1", "master-db"));
        s.Update(new AttributeUpdate("n1", "master-db", null), T0);
        Assert.Null(s.Get("n1", "master-db"));
        Assert.Empty(s.Snapshot("n1"));
    }

    [Fact]
    public void Shim_requests_parse_including_values_with_newlines_and_dampening()
    {
        var r = ShimRequest.Parse("tool=attrd_updater\nop=set\nname=pingd\nnode=n1\nlifetime=reboot\ndelay=5s\nrsc=ping\nvalue=a\nb\n")!;
        Assert.Equal("a\nb", r.Value);
        var u = r.ToUpdate()!;
        Assert.Equal(TimeSpan.FromSeconds(5), u.Dampen);
        Assert.Equal("pingd", u.Name);
        Assert.Null(ShimRequest.Parse("garbage"));
        Assert.Null(ShimRequest.Parse("tool=crm_node\nop=query\nname=\nnode=n1\nvalue=\n")!.ToUpdate());
    }
}
