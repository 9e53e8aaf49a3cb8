using System.CommandLine;
using Vigil.Cli;

namespace Vigil;

public static class Program
{
    public static int Main(string[] args)
    {
        ConfigCommands.AgentCatalog = InstalledAgents.Create;
        var root = new RootCommand("Vigil: a high-availability cluster stack (Pacemaker + Corosync semantics, one binary)");
        root.Subcommands.Add(ConfigCommands.Build());
        root.Subcommands.Add(SimulateCommands.Build());
        foreach (var c in ClusterCommands.Build()) root.Subcommands.Add(c);
        foreach (var c in JoinCommands.Build()) root.Subcommands.Add(c);
        root.Subcommands.Add(DemoCommand.Build());
        root.Subcommands.Add(AgentCommands.Build());
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
}
