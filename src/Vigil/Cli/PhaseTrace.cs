using System.Diagnostics;

namespace Vigil.Cli;

/// <summary>
/// With VIGIL_TRACE_PHASES=1, prints to standard error how long each phase of a command took, as wall
/// time and as this process's CPU time (the steadier figure on a shared machine), both since the
/// previous mark. The first mark covers process start, runtime start-up and JIT up to the command.
/// </summary>
internal sealed class PhaseTrace
{
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private readonly Process _self = Process.GetCurrentProcess();
    private TimeSpan _lastCpu;
    private TimeSpan _lastWall;
    private TimeSpan _lastPause;
    private long _lastAllocated;

    // Negative: the first mark then counts from the process's start, not from this object's creation.
    private PhaseTrace() => _lastWall = _self.StartTime - DateTime.Now;

    /// <summary>A trace when VIGIL_TRACE_PHASES is set to 1, otherwise null (and every mark costs nothing).</summary>
    public static PhaseTrace? FromEnvironment() =>
        Environment.GetEnvironmentVariable("VIGIL_TRACE_PHASES") == "1" ? new PhaseTrace() : null;

    public void Mark(string phase)
    {
        _self.Refresh();
        var cpu = _self.TotalProcessorTime;
        var wall = _wall.Elapsed;
        Console.Error.WriteLine($"phase {phase,-24} cpu {(cpu - _lastCpu).TotalMilliseconds,8:F1} ms  wall {(wall - _lastWall).TotalMilliseconds,8:F1} ms  alloc {(GC.GetTotalAllocatedBytes() - _lastAllocated) >> 20,5} MB  heap {GC.GetTotalMemory(false) >> 20,4} MB  gcs {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}  gc-pause {(GC.GetTotalPauseDuration() - _lastPause).TotalMilliseconds,7:F1} ms");
        _lastPause = GC.GetTotalPauseDuration();
        _lastAllocated = GC.GetTotalAllocatedBytes();
        _lastCpu = cpu;
        _lastWall = wall;
    }
}
