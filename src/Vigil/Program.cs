using System.CommandLine;
using Vigil.Cli;

namespace Vigil;

public static class Program
{
    public static int Main(string[] args)
    {
        ConfigCommands.AgentCatalog = InstalledAgents.Create;
        var root = new RootCommand("Vigil: a high-availability cluster stack (Pacemaker + Corosync semantics, one binary)");
        foreach (var c in Commands(args)) root.Subcommands.Add(c);
        try
        {
            var parsed = root.Parse(args);
            if (parsed.Errors.Count > 0)
            {
                foreach (var error in parsed.Errors) Console.Error.WriteLine($"vigil: {error.Message}");
                Console.Error.WriteLine("see 'vigil --help' or 'vigil COMMAND --help'");
                return ExitCodes.Usage;
            }
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            // The last line of defence: a bug must still give a readable message and a distinct code.
            Console.Error.WriteLine($"vigil: internal error: {e.GetType().Name}: {e.Message}");
            Console.Error.WriteLine("This is a bug in Vigil; please report it with the command you ran.");
            return ExitCodes.InternalError;
        }
    }

    /// <summary>
    /// The subcommands to parse <paramref name="args"/> with. A one-shot command of its own group
    /// (simulate, config, agent, demo) gets only its group: building every command's options and
    /// actions costs about 10 ms, a twentieth of a 1,000-resource <c>vigil simulate</c>. Anything else
    /// (help, a typo, the cluster commands) gets them all, so help and errors list every command.
    /// </summary>
    private static IEnumerable<Command> Commands(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "simulate": return [SimulateCommands.Build()];
            case "config": return [ConfigCommands.Build()];
            case "agent": return [AgentCommands.Build()];
            case "demo": return [DemoCommand.Build()];
        }
        return [ConfigCommands.Build(), SimulateCommands.Build(), .. ClusterCommands.Build(), .. JoinCommands.Build(), DemoCommand.Build(), AgentCommands.Build()];
    }
}
