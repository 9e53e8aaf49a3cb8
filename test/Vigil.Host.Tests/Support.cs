using System.Collections.Immutable;
using System.Diagnostics;
using Vigil.Host.Agents;

namespace Vigil.Host.Tests;

/// <summary>System tests need root (network namespaces, loop devices, /run). They fail, never skip, without it.</summary>
internal static class Requires
{
    public static void Root()
    {
        if (Environment.UserName != "root")
            throw new InvalidOperationException(
                $"This system test needs root (it runs real resource agents, creates network namespaces and loop devices); " +
                $"it runs as '{Environment.UserName}'. Run the suite as root, as CI does: sudo dotnet test test/Vigil.Host.Tests");
    }

    public static void Program(string path, string package)
    {
        if (!File.Exists(path))
            throw new InvalidOperationException($"{path} is missing; install the Debian package '{package}' (./test.sh installs every test dependency)");
    }
}

/// <summary>A private temporary directory, removed afterwards.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "vigil-test")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTime : TimeProvider
{
    private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public override DateTimeOffset GetUtcNow() => _now;
    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>Runs a helper command for test setup (ip, losetup, mkfs); throws with its output when it fails.</summary>
internal static class Sh
{
    public static string Run(string file, params string[] args)
    {
        var (rc, output) = TryRun(file, args);
        if (rc != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed (rc {rc}): {output}");
        return output;
    }

    public static (int Rc, string Output) TryRun(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000)) { p.Kill(true); throw new TimeoutException($"{file} did not finish in 60 s"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    public static bool Alive(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        if (!System.IO.File.Exists(stat)) return false;
        try
        {
            var text = System.IO.File.ReadAllText(stat);
            var state = text[(text.LastIndexOf(')') + 2)..][0];
            return state != 'Z' && state != 'X';
        }
        catch (IOException) { return false; }
    }
}

/// <summary>A node's executor pieces wired to real processes, with shims in a private directory.</summary>
internal sealed class AgentHarness : IDisposable
{
    public AgentHarness(string node = "node1", string? ocfRoot = null, string? initDir = null, string? netns = null, TimeProvider? shimTime = null)
    {
        Dir = new TempDir();
        Time = new ManualTime();
        Store = new AttributeStore();
        Shims = new ShimHost(Dir.File("shim"), node, Store, shimTime ?? Time);
        Paths = new ExecutorPaths
        {
            ShimDir = Shims.Directory,
            NativeStateDir = Dir.File("native"),
            OcfRoot = ocfRoot ?? "/usr/lib/ocf",
            InitDir = initDir ?? "/etc/init.d",
        };
        Runner = new ProcessAgentRunner(Paths, new ProcessRunner(Dir.File("spool"))) { NetworkNamespace = netns };
        Executor = new Executor(Runner, TimeProvider.System, Shims);
        Node = node;
    }

    public TempDir Dir { get; }
    public ManualTime Time { get; }
    public AttributeStore Store { get; }
    public ShimHost Shims { get; }
    public ExecutorPaths Paths { get; }
    public ProcessAgentRunner Runner { get; }
    public Executor Executor { get; }
    public string Node { get; }

    public AgentAction Action(string agent, string rsc, string action, long intervalMs = 0, params (string Key, string Value)[] parameters)
    {
        if (!AgentId.TryParse(agent, out var id, out var error)) throw new ArgumentException(error);
        return new AgentAction(id, rsc, action)
        {
            Interval = TimeSpan.FromMilliseconds(intervalMs),
            Parameters = parameters.ToImmutableDictionary(p => p.Key, p => p.Value),
            NodeName = Node,
        };
    }

    public async Task<AgentResult> Run(AgentAction a)
    {
        var r = await Runner.RunAsync(a);
        Shims.Pump();
        return r;
    }

    public void Dispose()
    {
        Executor.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
        Dir.Dispose();
    }
}
