using System.CommandLine;
using Vigil.Config;
using Vigil.Config.Validation;
using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Cli;

/// <summary><c>vigil config check|convert|show</c>: work on configuration files without a cluster.</summary>
public static class ConfigCommands
{
    /// <summary>The agent catalog used by 'check'; the host wires the real one (null: agents are not checked).</summary>
    public static Func<IAgentCatalog?> AgentCatalog { get; set; } = () => null;

    public static Command Build()
    {
        var config = new Command("config", "Check, convert and show configuration files (crm shell syntax, CIB XML, Heartbeat haresources)");

        var file = new Argument<string>("FILE") { Description = "Configuration file ('-' reads standard input)" };
        var from = new Option<string?>("--from") { Description = "Input language: crm, xml or haresources (default: from the file name and content)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print errors and warnings only, not notes" };
        var noAgents = new Option<bool>("--no-agents") { Description = "Do not check agent parameters against the agents installed here" };

        var check = new Command("check", "Check a configuration like crm_verify: every error and warning with file:line:column. " +
            "Exit codes: 0 valid, 1 warnings only, 2 errors, 64 usage, 66 unreadable file");
        check.Arguments.Add(file);
        check.Options.Add(from);
        check.Options.Add(quiet);
        check.Options.Add(noAgents);
        check.SetAction(r => Check(r.GetValue(file)!, r.GetValue(from), r.GetValue(quiet), r.GetValue(noAgents)));
        config.Subcommands.Add(check);

        var to = new Option<string>("--to") { Description = "Output language: crm or xml", Required = true };
        var convert = new Command("convert", "Convert a configuration between crm syntax, CIB XML and haresources (input only); refuses input with errors");
        convert.Arguments.Add(file);
        convert.Options.Add(from);
        convert.Options.Add(to);
        convert.SetAction(r => Convert(r.GetValue(file)!, r.GetValue(from), r.GetValue(to)!));
        config.Subcommands.Add(convert);

        var xml = new Option<bool>("--xml") { Description = "Show CIB XML instead of crm syntax" };
        var show = new Command("show", "Show a configuration the way 'crm configure show' does (normalised crm syntax)");
        show.Arguments.Add(file);
        show.Options.Add(from);
        show.Options.Add(xml);
        show.SetAction(r => Convert(r.GetValue(file)!, r.GetValue(from), r.GetValue(xml) ? "xml" : "crm"));
        config.Subcommands.Add(show);
        return config;
    }

    private static int Check(string path, string? from, bool quiet, bool noAgents)
    {
        var loaded = Load(path, from, noAgents ? null : AgentCatalog(), out var exit);
        if (loaded is null) return exit;
        path = DisplayName(path);
        Report(loaded.Diagnostics, quiet);
        var errors = loaded.Diagnostics.Count(d => d.Severity == Severity.Error);
        var warnings = loaded.Diagnostics.Count(d => d.Severity == Severity.Warning);
        if (errors > 0)
        {
            Console.Error.WriteLine($"{path}: {errors} error(s), {warnings} warning(s); fix the errors and check again");
            return ExitCodes.Errors;
        }
        if (warnings > 0)
        {
            Console.WriteLine($"{path}: valid, with {warnings} warning(s)");
            return ExitCodes.Warnings;
        }
        Console.WriteLine($"{path}: valid");
        return ExitCodes.Ok;
    }

    private static int Convert(string path, string? from, string to)
    {
        if (!ConfigFormats.TryParse(to, out var target) || target == ConfigFormat.Haresources)
        {
            Console.Error.WriteLine($"vigil: --to '{to}' is not an output language; use crm or xml");
            return ExitCodes.Usage;
        }
        var loaded = Load(path, from, null, out var exit);
        if (loaded is null) return exit;
        path = DisplayName(path);
        if (loaded.Value is null)
        {
            Report(loaded.Diagnostics, quiet: true);
            Console.Error.WriteLine($"{path}: not converted because of the errors above");
            return ExitCodes.Errors;
        }
        Report(loaded.Diagnostics, quiet: true);
        var (text, notes) = ConfigLoader.Write(loaded.Value, target);
        Report(notes, quiet: true);
        Console.Out.Write(text);
        return ExitCodes.Ok;
    }

    private static string DisplayName(string path) => path == "-" ? "<stdin>" : path;

    private static void Report(IEnumerable<Diagnostic> diagnostics, bool quiet)
    {
        foreach (var d in diagnostics)
            if (!quiet || d.Severity != Severity.Info)
                Console.Error.WriteLine(d);
    }

    internal static Parsed<Cib>? Load(string path, string? from, IAgentCatalog? agents, out int exit)
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
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            Console.Error.WriteLine($"vigil: cannot read '{path}': {e.Message}");
            exit = ExitCodes.NoInput;
            return null;
        }
        var source = DisplayName(path);
        return ConfigLoader.Load(text, source, format ?? ConfigFormats.Detect(source, text), agents);
    }
}
