using System.Text;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Vigil.Control;

namespace Vigil.Host.Consensus;

/// <summary>
/// The Raft state machine: applies committed <see cref="ClusterCommand"/>s to the immutable
/// <see cref="ClusterState"/> and snapshots it as CIB XML every <see cref="SnapshotEvery"/> entries.
/// </summary>
internal sealed class StateMachine(DirectoryInfo snapshots) : SimpleStateMachine(snapshots)
{
    public const int SnapshotEvery = 1000;
    private volatile ClusterState _state = ClusterState.Empty;

    public ClusterState State => _state;
    public long UndecodableEntries { get; private set; }

    public event Action? Applied;

    protected override ValueTask<bool> ApplyAsync(LogEntry entry, CancellationToken token)
    {
        if (!entry.IsConfiguration && entry.TryGetPayload(out var payload) && payload.Length > 0)
        {
            var command = ClusterCommand.FromBytes(payload.IsSingleSegment ? payload.FirstSpan : System.Buffers.BuffersExtensions.ToArray(payload));
            if (command is null) UndecodableEntries++;
            else
            {
                _state = _state.Apply(command);
                Applied?.Invoke();
            }
        }
        return new(entry.Index % SnapshotEvery == 0);
    }

    protected override ValueTask PersistAsync(IAsyncBinaryWriter writer, CancellationToken token) =>
        writer.Invoke(Encoding.UTF8.GetBytes(_state.ToSnapshot()), token);

    protected override async ValueTask RestoreAsync(FileInfo snapshot, CancellationToken token)
    {
        var xml = await File.ReadAllTextAsync(snapshot.FullName, token).ConfigureAwait(false);
        _state = ClusterState.FromSnapshot(xml);
    }
}
