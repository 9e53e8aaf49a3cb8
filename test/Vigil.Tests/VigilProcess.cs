using System.Diagnostics;

namespace Vigil.Tests;

/// <summary>Runs the real vigil executable (built next to the tests) as a user would, stdin closed.</summary>
internal static class VigilProcess
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(string? stdin, params string[] args) => RunWith(null, stdin, args);

    /// <summary>Runs vigil with extra environment variables.</summary>
    public static Result RunWith(IReadOnlyDictionary<string, string>? environment, string? stdin, params string[] args) => Start(environment, stdin, null, null, args);

    /// <summary>
    /// The binary as shipped: the native executable scripts/publish.sh builds into dist/vigil (test.sh builds it before
    /// the tests run).
    /// </summary>
    public static string ShippedBinary
    {
        get
        {
            var path = Path.Combine(RepoRoot, "dist", "vigil", "vigil");
            return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build it with scripts/publish.sh (test.sh does)");
        }
    }

    /// <summary>Runs the shipped binary (<see cref="ShippedBinary"/>), stdin closed.</summary>
    public static Result RunShipped(TimeSpan timeout, params string[] args) => Start(null, null, null, ShippedBinary, args, timeout);

    /// <summary>Runs vigil as another user (setpriv, no supplementary groups), from / so the working directory is no obstacle.</summary>
    public static Result RunAs(int uid, int gid, IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        Start(new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["HOME"] = "/tmp" }, null, (uid, gid), null, args);

    private static Result Start(IReadOnlyDictionary<string, string>? environment, string? stdin, (int Uid, int Gid)? user, string? executable, string[] args,
        TimeSpan? timeout = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "vigil.dll");
        var psi = new ProcessStartInfo(executable ?? (user is null ? "dotnet" : "setpriv"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            WorkingDirectory = user is null ? RepoRoot : "/",
        };
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        if (user is { } u)
            foreach (var a in new[] { $"--reuid={u.Uid}", $"--regid={u.Gid}", "--clear-groups", "dotnet" }) psi.ArgumentList.Add(a);
        if (executable is null) psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null) p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        if (!p.WaitForExit(limit)) { p.Kill(true); throw new TimeoutException($"vigil {string.Join(' ', args)} did not finish in {limit.TotalSeconds:0} s"); }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Vigil.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Vigil.slnx not found above the test directory");
    }
}
