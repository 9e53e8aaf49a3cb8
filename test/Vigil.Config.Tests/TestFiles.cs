using System.Diagnostics;

namespace Vigil.Config.Tests;

/// <summary>Finds the repository and the shared material next to it (CI clones the repo beside shared/).</summary>
internal static class TestFiles
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Shared
    {
        get
        {
            var dir = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
            if (!Directory.Exists(dir))
                throw new InvalidOperationException($"the shared material is expected at {dir} (the repository's sibling folder 'shared')");
            return dir;
        }
    }

    public static string Example(string name) => File.ReadAllText(Path.Combine(RepoRoot, "examples", name));

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Vigil.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Vigil.slnx not found above the test directory");
    }

    /// <summary>Runs Pacemaker's crm_verify on a CIB file; returns its exit code and output.</summary>
    public static (int ExitCode, string Output) CrmVerify(string xml)
    {
        var exe = "/usr/sbin/crm_verify";
        if (!File.Exists(exe))
            throw new InvalidOperationException("crm_verify is missing: install the Debian package pacemaker-cli-utils (./test.sh does)");
        var file = Path.Combine(Path.GetTempPath(), $"vigil-verify-{Guid.NewGuid():N}.xml");
        File.WriteAllText(file, xml);
        try
        {
            var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("-x");
            psi.ArgumentList.Add(file);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(60_000)) { p.Kill(true); throw new TimeoutException("crm_verify did not finish within 60 s"); }
            return (p.ExitCode, stdout.Result + stderr.Result);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
