using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace PaperVec.Bench.Harness;

/// <summary>
/// Sends the mix of requests and records each route's latencies.
///
/// Open loop: a dedicated thread walks a Stopwatch timeline (request i is due at start + i / rate)
/// and hands each request to HttpClient without waiting for earlier answers; its latency is measured
/// from when it was due, not from when it went out, so a server that stalls cannot hide the queue
/// it builds (no coordinated omission), and the generator's own lateness counts against it too
/// (reported as send lag). Closed loop: N workers, each sending its next request when the last one
/// is answered; latency from the actual send.
///
/// Only requests due (or started) inside the measured window, after the warm-up, are recorded.
/// Per request it allocates the HttpRequestMessage, HttpClient's own state and the async state
/// machine; response bodies are drained into a pooled buffer.
/// </summary>
public sealed class LoadGenerator : IDisposable
{
    readonly HttpClient _client;
    readonly BenchRequests _requests;

    public LoadGenerator(BenchRequests requests, int connections)
    {
        _requests = requests;
        _client = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseCookies = false,
            UseProxy = false,
        }) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public void Dispose() => _client.Dispose();

    public async Task<LoadResult> RunAsync(LoadSettings settings, CancellationToken cancel = default)
    {
        var routes = settings.Mix.Entries.ToDictionary(e => e.Route, _ => new RouteRecorder());
        var run = new Run(this, settings, routes, cancel);
        await run.ExecuteAsync().ConfigureAwait(false);
        return new LoadResult
        {
            Settings = settings, Routes = routes, Timeline = run.Timeline, SendLag = run.SendLag,
            MeasuredSeconds = settings.Duration.TotalSeconds, Unfinished = run.Unfinished, Gc = run.Gc, Cpu = run.Cpu,
            ThroughputSeconds = Math.Max(settings.Duration.TotalSeconds, run.LastAnswerSeconds),
        };
    }

    sealed class Run(LoadGenerator generator, LoadSettings settings, Dictionary<BenchRoute, RouteRecorder> routes, CancellationToken cancel)
    {
        static readonly long Frequency = Stopwatch.Frequency;
        readonly CancellationTokenSource _abort = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
        long _inFlight = 1; // the sender holds one until it is done sending
        long _measureStart, _measureEnd, _lastAnswer;

        public Timeline Timeline { get; } = new((int)Math.Ceiling(settings.Duration.TotalSeconds) + 1);
        public LatencyRecorder SendLag { get; } = new();
        public long Unfinished { get; private set; }
        public GcActivity? Gc { get; private set; }
        public CpuSteal? Cpu { get; private set; }
        /// <summary>When the last measured request was answered, in seconds after the window opened.</summary>
        public double LastAnswerSeconds => (double)(Interlocked.Read(ref _lastAnswer) - _measureStart) / Frequency;

        public async Task ExecuteAsync()
        {
            // Open loop: 10 ms of lead so the sender thread is running before the first request is due.
            long start = Stopwatch.GetTimestamp() + (settings.Mode == LoadMode.Open ? Frequency / 100 : 0);
            _measureStart = start + (long)(settings.Warmup.TotalSeconds * Frequency);
            _measureEnd = _measureStart + (long)(settings.Duration.TotalSeconds * Frequency);
            var windowWatch = WatchWindowAsync();
            if (settings.Mode == LoadMode.Open)
            {
                var sender = new Thread(() => SendOnSchedule(start)) { IsBackground = true, Name = "open-loop sender", Priority = ThreadPriority.AboveNormal };
                sender.Start();
                await Task.Run(sender.Join).ConfigureAwait(false);
            }
            else
            {
                await Task.WhenAll(Enumerable.Range(0, settings.Connections).Select(w => Task.Run(() => SendClosedLoop(w)))).ConfigureAwait(false);
            }
            Finished();
            await windowWatch.ConfigureAwait(false);
            if (await Task.WhenAny(_drained.Task, Task.Delay(settings.Drain, cancel)).ConfigureAwait(false) != _drained.Task)
            {
                Unfinished = Interlocked.Read(ref _inFlight);
                _abort.Cancel(); // the ones still out end as status 0
                await _drained.Task.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
        }

        /// <summary>The GC's and the machine's CPU counters at the window's opening and closing (a few ms late at worst).</summary>
        async Task WatchWindowAsync()
        {
            try
            {
                await DelayUntil(_measureStart).ConfigureAwait(false);
                var start = GcActivity.Take();
                var cpuStart = CpuSteal.Take();
                await DelayUntil(_measureEnd).ConfigureAwait(false);
                Gc = GcActivity.Between(start, GcActivity.Take());
                Cpu = CpuSteal.Between(cpuStart, CpuSteal.Take(), Environment.ProcessorCount);
            }
            catch (OperationCanceledException) { } // cancelled: no window to describe
        }

        Task DelayUntil(long timestamp)
        {
            long remaining = timestamp - Stopwatch.GetTimestamp();
            return remaining <= 0 ? Task.CompletedTask : Task.Delay(TimeSpan.FromSeconds((double)remaining / Frequency), _abort.Token);
        }

        void SendOnSchedule(long start)
        {
            var random = new Random(settings.Seed);
            double interval = Frequency / settings.Rate;
            long total = (long)Math.Ceiling(settings.Rate * (settings.Warmup + settings.Duration).TotalSeconds);
            for (long i = 0; i < total && !_abort.IsCancellationRequested; i++)
            {
                long due = start + (long)(i * interval);
                WaitUntil(due);
                bool measured = due >= _measureStart && due < _measureEnd;
                if (measured) SendLag.RecordTicks(Stopwatch.GetTimestamp() - due);
                Interlocked.Increment(ref _inFlight);
                _ = SendAsync(settings.Mix.Pick(random.NextDouble()), random.Next(), due, measured);
            }
        }

        async Task SendClosedLoop(int worker)
        {
            var random = new Random(settings.Seed * 1000 + worker);
            long now;
            while ((now = Stopwatch.GetTimestamp()) < _measureEnd && !_abort.IsCancellationRequested)
            {
                Interlocked.Increment(ref _inFlight);
                await SendAsync(settings.Mix.Pick(random.NextDouble()), random.Next(), now, now >= _measureStart).ConfigureAwait(false);
            }
        }

        async Task SendAsync(BenchRoute route, int pick, long from, bool measured)
        {
            int status = 0;
            try
            {
                using var request = generator._requests.Create(route, pick);
                using var response = await generator._client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, _abort.Token).ConfigureAwait(false);
                await using var body = await response.Content.ReadAsStreamAsync(_abort.Token).ConfigureAwait(false);
                byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
                try { while (await body.ReadAsync(buffer.AsMemory(), _abort.Token).ConfigureAwait(false) > 0) { } }
                finally { ArrayPool<byte>.Shared.Return(buffer); }
                status = (int)response.StatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
            {
                status = 0; // no (complete) response: counted as an error of status 0
            }
            finally
            {
                long end = Stopwatch.GetTimestamp();
                if (measured)
                {
                    routes[route].Record(status, end - from);
                    Timeline.Record((int)((end - _measureStart) / Frequency), end - from);
                    long seen;
                    while (status != 0 && end > (seen = Interlocked.Read(ref _lastAnswer)) && Interlocked.CompareExchange(ref _lastAnswer, end, seen) != seen) { }
                }
                if (Interlocked.Decrement(ref _inFlight) == 0) _drained.TrySetResult();
            }
        }

        void Finished()
        {
            if (Interlocked.Decrement(ref _inFlight) == 0) _drained.TrySetResult();
        }
    }

    /// <summary>
    /// Sleeps until the Stopwatch reaches <paramref name="due"/> without spinning a core (this
    /// machine has two, shared with the server): on Linux in sub-millisecond usleep steps, whose
    /// overshoot (tens of microseconds) is the send lag; elsewhere in 1 ms sleeps.
    /// </summary>
    static void WaitUntil(long due)
    {
        while (true)
        {
            long remaining = due - Stopwatch.GetTimestamp();
            if (remaining <= 0) return;
            long micros = remaining * 1_000_000 / Stopwatch.Frequency;
            if (OperatingSystem.IsLinux()) _ = usleep((uint)Math.Min(micros, 100_000));
            else Thread.Sleep(micros >= 1000 ? 1 : 0);
        }
    }

    [DllImport("libc", SetLastError = false)]
    static extern int usleep(uint microseconds);
}
