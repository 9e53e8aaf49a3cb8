namespace Vigil.Tests;

public class ConfigCliTests
{
    [Fact]
    public void Check_of_a_seed_exits_1_for_warnings_and_names_them()
    {
        var r = VigilProcess.Run(null, "config", "check", "examples/seed-001.crm");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("examples/seed-001.crm:10:1: warning VC033", r.Stderr);
        Assert.Contains("valid, with", r.Stdout);
    }

    [Fact]
    public void Check_of_a_clean_configuration_exits_0()
    {
        var r = VigilProcess.Run("primitive f stonith:fence_dummy\nprimitive a ocf:heartbeat:Dummy op monitor interval=10s\n", "config", "check", "--no-agents", "-");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("<stdin>: valid", r.Stdout);
    }

    [Fact]
    public void Check_of_a_broken_configuration_exits_2_with_file_line_and_column()
    {
        var r = VigilProcess.Run("property stonith-enabled=false\nprimitive a ocf:heartbeat:Dummy\nlocation l a rule 10: #uname equals n1\n", "config", "check", "-");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("<stdin>:3:30: error VC053", r.Stderr);
        Assert.Contains("hint:", r.Stderr);
    }

    [Fact]
    public void A_missing_file_exits_66_and_says_which()
    {
        var r = VigilProcess.Run(null, "config", "check", "/nonexistent/vigil.crm");
        Assert.Equal(66, r.ExitCode);
        Assert.Contains("cannot read '/nonexistent/vigil.crm'", r.Stderr);
    }

    [Fact]
    public void An_unknown_language_exits_64()
    {
        var r = VigilProcess.Run(null, "config", "check", "--from", "yaml", "examples/seed-001.crm");
        Assert.Equal(64, r.ExitCode);
        Assert.Contains("use crm, xml or haresources", r.Stderr);
    }

    [Fact]
    public void Convert_to_xml_writes_a_cib_and_refuses_broken_input()
    {
        var ok = VigilProcess.Run(null, "config", "convert", "--to", "xml", "examples/seed-002.haresources");
        Assert.Equal(0, ok.ExitCode);
        Assert.StartsWith("<cib", ok.Stdout);
        Assert.Contains("type=\"IPaddr\"", ok.Stdout);
        var bad = VigilProcess.Run("group g missing\n", "config", "convert", "--to", "xml", "-");
        Assert.Equal(2, bad.ExitCode);
        Assert.Equal("", bad.Stdout);
    }

    [Fact]
    public void Show_prints_crm_syntax_that_checks_the_same()
    {
        var shown = VigilProcess.Run(null, "config", "show", "examples/seed-001.crm");
        Assert.Equal(0, shown.ExitCode);
        Assert.Contains("ms ms_drbd drbd_res", shown.Stdout);
        var again = VigilProcess.Run(shown.Stdout, "config", "check", "-");
        Assert.Equal(1, again.ExitCode);
    }

    [Fact]
    public void An_unknown_command_is_a_usage_error_not_a_crash()
    {
        var r = VigilProcess.Run(null, "confg", "check");
        Assert.Equal(64, r.ExitCode);
        Assert.Contains("Unrecognized command or argument 'confg'", r.Stderr);
        Assert.DoesNotContain("Exception", r.Stderr);
    }

    [Fact]
    public void Check_validates_parameters_against_the_installed_agents_meta_data()
    {
        // resource-agents is installed by ./test.sh; IPaddr2 declares ip as required.
        var r = VigilProcess.Run("property stonith-enabled=false\nprimitive vip ocf:heartbeat:IPaddr2 params cidr_netmsk=24\n", "config", "check", "-");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("<stdin>:2:11: error VV032: 'vip' lacks the required parameter 'ip'", r.Stderr);
        Assert.Contains("did you mean 'cidr_netmask'?", r.Stderr);
        var skipped = VigilProcess.Run("property stonith-enabled=false\nprimitive vip ocf:heartbeat:IPaddr2 params cidr_netmsk=24\n", "config", "check", "--no-agents", "-");
        Assert.Equal(1, skipped.ExitCode);
    }
}
