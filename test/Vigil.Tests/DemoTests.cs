using System.Globalization;

namespace Vigil.Tests;

/// <summary>The demo command end to end (it starts its own daemons, so it runs with the other cluster tests).</summary>
[Collection("cluster")]
public class DemoTests
{
    [Fact]
    public void The_demo_stops_the_groups_node_cleanly_with_fencing_on_and_nobody_fences_it()
    {
        var r = VigilProcess.Run(null, "demo", "--stop", "clean", "--fencing", "agent");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}:\n{r.Stdout}\n{r.Stderr}");
        var lines = r.Stdout.TrimEnd().Split('\n');
        Assert.StartsWith("switchover_s=", lines[^1], StringComparison.Ordinal);
        var seconds = double.Parse(lines[^1]["switchover_s=".Length..], CultureInfo.InvariantCulture);
        Assert.InRange(seconds, 0.0, 30.0);
        // The demo itself fails when the stopped node does not exit with 0, or is fenced or shown unclean.
        Assert.Contains(lines, l => l.Contains("exited (0) after", StringComparison.Ordinal) && l.EndsWith("not fenced", StringComparison.Ordinal));
    }

    [Fact]
    public void An_unknown_stop_mode_is_refused()
    {
        var r = VigilProcess.Run(null, "demo", "--stop", "gently");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("gently", r.Stderr + r.Stdout, StringComparison.Ordinal);
    }
}
