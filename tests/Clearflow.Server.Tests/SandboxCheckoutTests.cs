using System.Text;
using Clearflow.Application.Abstractions;
using Clearflow.Server.Sandbox;
using Clearflow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>The sandbox checkout on the copy of an order its node created, and when it must read the order instead.</summary>
public abstract class SandboxCheckoutTests(ServerEnvironment environment, StoreKind kind)
{
    private static readonly CompleteSandboxCheckout.Request Success = new("success", SandboxWebhookBehaviour.Normal, null);

    /// <summary>The checkout as the node runs it, on a store that says whether the order was read.</summary>
    private static CompleteSandboxCheckout Checkout(ClearflowTestHost host, IServiceScope scope, Action read) =>
        ActivatorUtilities.CreateInstance<CompleteSandboxCheckout>(scope.ServiceProvider, CallHook<ISandboxStore>.Before(host.Store,
            nameof(ISandboxStore.GetSandboxOrderAsync), () => { read(); return Task.CompletedTask; }));

    [Fact]
    public async Task An_order_created_on_this_node_is_completed_without_a_read_and_one_completed_elsewhere_since_is_read_first()
    {
        var host = await environment.HostAsync(kind);
        using var client = host.CreateClient();
        using var scope = host.Services.CreateScope();

        // Created through this node's sandbox and not checked out since: completed on the copy.
        var order = await Api.CreateOrderAsync(client);
        var read = false;
        var completed = await Checkout(host, scope, () => read = true).HandleAsync(Api.SandboxOrderId(order), Success, default);
        Assert.Equal("succeeded", completed.Value!.Status);
        Assert.False(read);
        Assert.Equal("succeeded", (await host.Store.GetSandboxOrderAsync(Api.SandboxOrderId(order), default))!.Status);

        // Answered "pending" on another node first (a payment id given then): the copy no longer describes the order, so
        // the checkout reads it, keeps its payment id, and tells the gateway's webhook that one.
        var other = await Api.CreateOrderAsync(client);
        var sandboxId = Api.SandboxOrderId(other);
        Assert.True(await host.Store.CompleteSandboxCheckoutAsync(new SandboxCompletion(sandboxId, "pending", "sbx_pay_elsewhere", null, DateTimeOffset.UtcNow), [], default));
        read = false;
        completed = await Checkout(host, scope, () => read = true).HandleAsync(sandboxId, Success, default);
        Assert.Equal("succeeded", completed.Value!.Status);
        Assert.True(read);
        Assert.Equal(("succeeded", "sbx_pay_elsewhere"), await host.Store.GetSandboxOrderAsync(sandboxId, default) is { } stored ? (stored.Status, stored.PaymentId) : default);
        Assert.Contains("sbx_pay_elsewhere", Encoding.UTF8.GetString(Assert.Single(await host.Store.ListSandboxWebhooksAsync(sandboxId, default)).Body), StringComparison.Ordinal);

        // A second checkout of the first order reads it and is refused: it was completed once.
        var again = await Checkout(host, scope, () => { }).HandleAsync(Api.SandboxOrderId(order), Success, default);
        Assert.Equal(409, again.Error!.Status);
    }
}

[Collection(ServerCollection.Name)]
public sealed class SandboxCheckoutOnSqlite(ServerEnvironment environment) : SandboxCheckoutTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class SandboxCheckoutOnPostgres(ServerEnvironment environment) : SandboxCheckoutTests(environment, StoreKind.Postgres);
