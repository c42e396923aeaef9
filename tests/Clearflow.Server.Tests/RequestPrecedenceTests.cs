using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>Requests someone waits on go before background work (ADR 14): the admission's rules.</summary>
public sealed class BackgroundAdmissionTests
{
    private static readonly TimeSpan Patient = TimeSpan.FromMinutes(5); // longer than any test: a start is never due to it
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);

    private static BackgroundAdmission Admission(int itemsWhileRequestsWait, TimeSpan longestWait) =>
        new(new FakeTimeProvider(Now), itemsWhileRequestsWait, longestWait, lateAfter: TimeSpan.FromSeconds(1));

    /// <summary>Asks for a turn and lets it wait (an item due now unless said otherwise).</summary>
    private static Task<BackgroundAdmission.Turn> Waiting(BackgroundAdmission admission, DateTimeOffset? dueSince = null, CancellationToken cancellationToken = default) =>
        admission.WaitTurnAsync(dueSince ?? Now, cancellationToken).AsTask();

    /// <summary>A request waits and two items run: a limit of two is reached.</summary>
    private static async Task<(BackgroundAdmission.Turn First, BackgroundAdmission.Turn Second)> AtTheLimitAsync(BackgroundAdmission admission)
    {
        admission.RequestReceived();
        return (await admission.WaitTurnAsync(Now, CancellationToken.None), await admission.WaitTurnAsync(Now, CancellationToken.None));
    }

    [Fact]
    public async Task While_no_request_waits_every_background_item_starts_at_once()
    {
        var admission = Admission(2, Patient);
        var turns = Enumerable.Range(0, 10).Select(_ => admission.WaitTurnAsync(Now, CancellationToken.None)).ToList();
        Assert.All(turns, t => Assert.True(t.IsCompletedSuccessfully));
        Assert.Equal(10, admission.RunningItems);
        foreach (var turn in turns)
        {
            (await turn).Dispose();
        }
        Assert.Equal(0, admission.RunningItems);
    }

    [Fact]
    public async Task While_a_request_waits_two_items_run_and_the_next_starts_when_the_request_is_answered()
    {
        var admission = Admission(2, Patient);
        await AtTheLimitAsync(admission); // each test has its own admission: turns left running end with it
        var third = Waiting(admission);
        await Task.Delay(100);
        Assert.False(third.IsCompleted);

        admission.RequestAnswered();
        using var started = await third.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(3, admission.RunningItems);
    }

    [Fact]
    public async Task While_a_request_waits_a_finished_item_lets_the_next_one_start()
    {
        var admission = Admission(2, Patient);
        var (first, _) = await AtTheLimitAsync(admission);
        var third = Waiting(admission);
        var fourth = Waiting(admission);
        await Task.Delay(100);
        Assert.False(third.IsCompleted || fourth.IsCompleted);

        first.Dispose();
        first.Dispose(); // a turn ends once, however often it is disposed
        var next = await Task.WhenAny(third, fourth).WaitAsync(TimeSpan.FromSeconds(10));
        using var started = await next;
        await Task.Delay(100);
        Assert.False(third.IsCompleted && fourth.IsCompleted); // still two at a time
        Assert.Equal(2, admission.RunningItems);
        admission.RequestAnswered();
        using var last = await (next == third ? fourth : third).WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task No_item_waits_longer_than_the_longest_wait_even_if_requests_never_stop()
    {
        var admission = Admission(2, TimeSpan.FromMilliseconds(200));
        await AtTheLimitAsync(admission);
        var third = Waiting(admission);
        Assert.False(third.IsCompleted);
        using var started = await third.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(3, admission.RunningItems);
    }

    [Fact]
    public async Task An_item_already_late_is_not_held_back()
    {
        var admission = Admission(2, Patient);
        var (first, _) = await AtTheLimitAsync(admission);
        var onTime = Waiting(admission, Now.AddMilliseconds(-999));
        var late = admission.WaitTurnAsync(Now.AddSeconds(-1), CancellationToken.None);
        Assert.True(late.IsCompletedSuccessfully);
        Assert.False(onTime.IsCompleted);
        (await late).Dispose();
        first.Dispose();
        using var started = await onTime.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_cancelled_wait_takes_no_turn()
    {
        var admission = Admission(1, Patient);
        admission.RequestReceived();
        using var first = await admission.WaitTurnAsync(Now, CancellationToken.None);
        using var stopping = new CancellationTokenSource();
        var second = Waiting(admission, cancellationToken: stopping.Token);
        await stopping.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, admission.RunningItems);
    }
}

/// <summary>Which requests the server counts as waiting for their answer (ADR 14).</summary>
public abstract class RequestPrecedenceTests(ServerEnvironment environment, StoreKind kind) : ServerTest(environment)
{
    [Fact]
    public async Task A_request_counts_as_waiting_until_its_response_starts_and_a_live_stream_only_until_its_first_event()
    {
        var gate = new GatewayGate { Hold = true };
        int? waitingInsideTheSandboxApi = null;
        var host = await Environment.StartExtraHostAsync(kind, services =>
        {
            GatewayGate.Install(services, gate);
            // Look at the count while the sandbox's own API serves the order's gateway call.
            services.AddSingleton<ISandboxStore>(sp => CallHook<ISandboxStore>.After(sp.GetRequiredService<IClearflowStore>(), nameof(ISandboxStore.InsertSandboxOrderAsync),
                () =>
                {
                    waitingInsideTheSandboxApi = sp.GetRequiredService<BackgroundAdmission>().WaitingRequests;
                    return Task.CompletedTask;
                }));
        });
        var admission = host.Services.GetRequiredService<BackgroundAdmission>();
        using var client = host.CreateClient();

        var creating = Api.PostOrderAsync(client, Api.OrderBody(Api.NewReceipt()), "precedence-" + Guid.NewGuid().ToString("N"));
        await gate.Entered.Task.WaitAsync(TimeSpan.FromSeconds(20)); // the request is inside the gateway call now
        Assert.Equal(1, admission.WaitingRequests);
        gate.Release.SetResult();
        using var created = await creating;
        created.EnsureSuccessStatusCode();
        Assert.Equal(0, admission.WaitingRequests);
        Assert.Equal(1, waitingInsideTheSandboxApi); // the order's request, not the sandbox API call inside it (a stand-in for a remote gateway)

        var order = System.Text.Json.JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.Clone();
        var (response, events) = await LiveStatusTests.OpenAsync(host, order);
        using (response)
        using (events)
        {
            Assert.Equal("status", (await events.NextAsync(TimeSpan.FromSeconds(10))).Event);
            Assert.Equal(0, admission.WaitingRequests); // an open stream holds no background work back
        }
    }
}

[Collection(ServerCollection.Name)]
public sealed class RequestPrecedenceOnSqlite(ServerEnvironment environment) : RequestPrecedenceTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class RequestPrecedenceOnPostgres(ServerEnvironment environment) : RequestPrecedenceTests(environment, StoreKind.Postgres);
