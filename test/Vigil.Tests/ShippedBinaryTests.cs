namespace Vigil.Tests;

/// <summary>
/// The shipped binary is compiled natively (Native AOT), which the other tests do not run: it has no JIT and no
/// reflection-made code, so what works in the development build could fail only there. These run it for real.
/// </summary>
[Collection("cluster")]
public class ShippedBinaryTests
{
    [Fact]
    public void The_shipped_binary_runs_the_demo_cluster_and_its_failover()
    {
        var r = VigilProcess.RunShipped(TimeSpan.FromSeconds(180), "demo");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}:\n{r.Stdout}\n{r.Stderr}");
        var lines = r.Stdout.TrimEnd().Split('\n');
        Assert.StartsWith("failover_s=", lines[^1], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains("Started node", StringComparison.Ordinal));
    }

    /// <summary>Pacemaker's own regression inputs: the shipped binary decides exactly as the development build.</summary>
    [Fact]
    public void The_shipped_binary_schedules_exactly_as_the_development_build()
    {
        var inputs = Directory.EnumerateFiles(Path.Combine(VigilProcess.RepoRoot, "..", "shared", "conformance", "dev"), "*.xml")
            .Order(StringComparer.Ordinal).Where((_, i) => i % 12 == 0).ToList();
        Assert.True(inputs.Count >= 20, $"only {inputs.Count} conformance inputs found");
        foreach (var input in inputs)
        {
            var shipped = VigilProcess.RunShipped(TimeSpan.FromSeconds(60), "simulate", "--xml", input);
            var dev = VigilProcess.Run(null, "simulate", "--xml", input);
            // A comparison of two refusals would prove little: each input is scheduled for real.
            Assert.True(dev.ExitCode == 0 && dev.Stdout.Length > 0, $"{input}: the development build did not schedule it (exit {dev.ExitCode})\n{dev.Stderr}");
            Assert.True(dev.ExitCode == shipped.ExitCode, $"{input}: exit {shipped.ExitCode} shipped, {dev.ExitCode} development\n{shipped.Stderr}");
            Assert.Equal(dev.Stdout, shipped.Stdout);
            Assert.Equal(dev.Stderr, shipped.Stderr);
        }
    }
}
