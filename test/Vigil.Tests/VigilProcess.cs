using System.Diagnostics;

namespace Vigil.Tests;

/// <summary>Runs the real vigil executable (built next to the tests) as a user would, stdin closed.</summary>
internal static class VigilProcess
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(string? stdin, params string[] args) => RunWith(null, stdin, args);

    /// <summary>Runs vigil with extra environment variables.</summary>
    public static Result RunWith(IReadOnlyDictionary<string, string>? environment, string? stdin, params string[] args) => Start(environment, stdin, null, args);

    /// <summary>Runs vigil as another user (setpriv, no supplementary groups), from / so the working directory is no obstacle.</summary>
    public static Result RunAs(int uid, int gid, IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        Start(new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["HOME"] = "/tmp" }, null, (uid, gid), args);

    private static Result Start(IReadOnlyDictionary<string, string>? environment, string? stdin, (int Uid, int Gid)? user, string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "vigil.dll");
        var psi = new ProcessStartInfo(user is null ? "dotnet" : "setpriv")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            WorkingDirectory = user is null ? RepoRoot : "/",
        };
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        if (user is { } u)
            foreach (var a in new[] { $"--reuid={u.Uid}", $"--regid={u.Gid}", "--clear-groups", "dotnet" }) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null) p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(60_000)) { p.Kill(true); throw new TimeoutException($"vigil {string.Join(' ', args)} did not finish in 60 s"); }
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
