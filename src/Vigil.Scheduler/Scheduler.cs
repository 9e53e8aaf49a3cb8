using Vigil.Core.Model;

namespace Vigil.Scheduler;

/// <summary>
/// Pacemaker-compatible placement: (configuration + status, now) → target placement and the transition
/// graph that gets there. Pure and deterministic: no clock (now is an input), no I/O, ties broken by
/// documented rules (score, then load, then current node, then node name, then configuration order).
/// </summary>
public static class Scheduler
{
    /// <param name="phaseDone">Called with a phase's name when it ends (the shell times them; see VIGIL_TRACE_PHASES).</param>
    public static Transition Run(Cib cib, DateTimeOffset now, string? explain = null, Action<string>? phaseDone = null) =>
        new Engine(cib, now, explain).Run(phaseDone);
}
