using System.Diagnostics;

namespace Diabetes.Testing;

/// <summary>
/// Waits for what happens in the background (a watcher's refresh, a job's end, a heartbeat, a retry) by reading it
/// again until it holds. The limit is only a safety net against a wait that would never end: far longer than the
/// event takes on a machine whose cores are busy with other work, so that reaching it means the event did not happen.
/// </summary>
public static class Poll
{
    /// <summary>
    /// How long a wait may last before the test fails: a training job's nine candidates on 6,000 encounters took more
    /// than five minutes on two cores shared with a dozen busy processes.
    /// </summary>
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(15);

    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Reads <paramref name="read"/> until <paramref name="holds"/> is true of what it answers, and answers that; fails
    /// after <see cref="Limit"/>, naming what it waited for (<paramref name="what"/>) and what it read last (as
    /// <paramref name="describe"/> tells it, else as the value's own text).
    /// </summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> holds, string what, Func<T, string>? describe = null)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (holds(value))
            {
                return value;
            }

            if (waited.Elapsed > Limit)
            {
                Assert.Fail($"Waited {Limit.TotalMinutes:0} minutes for {what}; last read: {(describe is null ? value : describe(value))}");
            }

            await Task.Delay(Pause);
        }
    }

    /// <summary>Waits until <paramref name="holds"/> answers true (see <see cref="UntilAsync{T}"/>).</summary>
    public static Task UntilAsync(Func<Task<bool>> holds, string what) => UntilAsync(holds, held => held, what);

    /// <summary>Waits until <paramref name="holds"/> is true of what is in memory (see <see cref="UntilAsync{T}"/>).</summary>
    public static Task UntilAsync(Func<bool> holds, string what) => UntilAsync(() => Task.FromResult(holds()), held => held, what);
}
