namespace Diabetes.Trainer.FunctionalTests;

/// <summary>
/// One trainer's line to MLflow, which a test can cut: while cut, the trainer's calls get no answer, as over a network
/// that drops every packet, and go through once it is mended (within the client's 60 s a call, so the calls survive).
/// </summary>
public sealed class MlflowLink
{
    private volatile TaskCompletionSource _mended = Mended();
    private int _heldCalls;

    /// <summary>How many calls found the line cut, so far.</summary>
    public int HeldCalls => Volatile.Read(ref _heldCalls);

    public void Cut() => _mended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Mend() => _mended.TrySetResult();

    public DelegatingHandler CreateHandler() => new LinkHandler(this);

    private static TaskCompletionSource Mended()
    {
        var mended = new TaskCompletionSource();
        mended.SetResult();
        return mended;
    }

    private sealed class LinkHandler(MlflowLink link) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var mended = link._mended.Task;
            if (!mended.IsCompleted)
            {
                Interlocked.Increment(ref link._heldCalls);
                await mended.WaitAsync(cancellationToken);
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }
}
