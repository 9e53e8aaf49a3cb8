using System.CommandLine;
using Vigil.Config;
using Vigil.Core;

namespace Vigil.Cli;

/// <summary><c>vigil config check|convert|show</c>: work on configuration files without a cluster.</summary>
public static class ConfigCommands
{
    public static Command Build()
    {
        var config = new Command("config", "Check, convert and show configuration files (crm shell syntax, CIB XML, haresources)");

        var file = new Argument<string>("FILE") { Description = "Configuration file ('-' reads standard input)" };
        var from = new Option<string?>("--from") { Description = "Input language: crm, xml or haresources (default: detected)" };

        var check = new Command("check", "Check a configuration like crm_verify: every error and warning with file:line:column. " +
            "Exit codes: 0 ok, 1 warnings only, 2 errors, 64 usage, 66 unreadable file");
        check.Arguments.Add(file);
        check.Options.Add(from);
        check.SetAction(r => Check(r.GetValue(file)!, r.GetValue(from)));
        config.Subcommands.Add(check);
        return config;
    }

    private static int Check(string path, string? from)
    {
        var loaded = Load(path, from, out var exit);
        if (loaded is null) return exit;
        foreach (var d in loaded.Diagnostics) Console.Error.WriteLine(d);
        if (loaded.HasErrors) { Console.Error.WriteLine($"{path}: errors found; fix them and check again"); return ExitCodes.Errors; }
        if (loaded.HasWarnings) { Console.WriteLine($"{path}: valid, with warnings"); return ExitCodes.Warnings; }
        Console.WriteLine($"{path}: valid");
        return ExitCodes.Ok;
    }

    internal static Parsed<Vigil.Core.Model.Cib>? Load(string path, string? from, out int exit)
    {
        exit = ExitCodes.Ok;
        ConfigFormat? format = null;
        if (from is not null)
        {
            if (!ConfigFormats.TryParse(from, out var f))
            {
                Console.Error.WriteLine($"vigil: --from '{from}' is not a configuration language; use crm, xml or haresources");
                exit = ExitCodes.Usage;
                return null;
            }
            format = f;
        }
        string text;
        try
        {
            text = path == "-" ? Console.In.ReadToEnd() : File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"vigil: cannot read '{path}': {e.Message}");
            exit = ExitCodes.NoInput;
            return null;
        }
        var source = path == "-" ? "<stdin>" : path;
        return ConfigLoader.Load(text, source, format ?? ConfigFormats.Detect(source, text));
    }
}
