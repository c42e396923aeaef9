using System.Net;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Merchants;
using Clearflow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>A create-order request checks a key its node already knows in the command that writes (ADR 22).</summary>
public abstract class ApiKeyTests(ServerEnvironment environment, StoreKind kind) : ServerTest(environment)
{
    [Fact]
    public async Task A_key_revoked_on_another_node_creates_nothing_there_at_once_though_that_node_knew_it()
    {
        // Two nodes on one database: one where the merchant works, one where an operator revokes the key.
        var database = await Environment.NewDatabaseAsync(kind);
        var working = await Environment.StartOnDatabaseAsync(database, null, StatusCheckTests.Workers());
        var revoking = await Environment.StartOnDatabaseAsync(database, null, StatusCheckTests.Workers());
        string merchantId;
        IssueApiKey.Issued leaked, kept;
        using (var scope = revoking.Services.CreateScope())
        {
            merchantId = (await scope.ServiceProvider.GetRequiredService<CreateMerchant>().HandleAsync("Keys " + Guid.NewGuid().ToString("N")[..8], default)).Value!.Id;
            leaked = (await scope.ServiceProvider.GetRequiredService<IssueApiKey>().HandleAsync(merchantId, "test", default)).Value!;
            kept = (await scope.ServiceProvider.GetRequiredService<IssueApiKey>().HandleAsync(merchantId, "test", default)).Value!;
        }
        using var withLeaked = working.CreateClient(leaked.SecretKey);
        var firstKey = "key-" + Guid.NewGuid();
        var firstBody = Api.OrderBody(Api.NewReceipt());
        using (var first = await Api.PostOrderAsync(withLeaked, firstBody, firstKey))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode); // read: the working node knows the key from now on
        }
        using (var second = await Api.PostOrderAsync(withLeaked, Api.OrderBody(Api.NewReceipt()), "key-" + Guid.NewGuid()))
        {
            Assert.Equal(HttpStatusCode.Created, second.StatusCode); // known: checked in the order's command
        }

        Assert.Equal(KeyRevocation.Revoked, await revoking.Services.GetRequiredService<IDashboardStore>().RevokeApiKeyAsync(merchantId, leaked.Record.Id, DateTimeOffset.UtcNow, default));

        var receipt = Api.NewReceipt();
        var key = "key-" + Guid.NewGuid();
        using (var refused = await Api.PostOrderAsync(withLeaked, Api.OrderBody(receipt), key))
        {
            await Api.ProblemAsync(refused, HttpStatusCode.Unauthorized, "unauthenticated");
            Assert.Equal("Bearer", refused.Headers.WwwAuthenticate.Single().Scheme);
        }
        // Nothing was written: no order with the receipt, and the Idempotency-Key is free for the merchant's other key.
        Assert.Null(await working.Store.FindOrderByReceiptAsync(merchantId, receipt, default));
        using var withKept = working.CreateClient(kept.SecretKey);
        using (var retried = await Api.PostOrderAsync(withKept, Api.OrderBody(receipt), key))
        {
            Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
            Assert.False(retried.Headers.Contains("Idempotent-Replayed"));
        }
        // A retry of a finished request is refused too, and the node has forgotten the key: other requests read it.
        using (var replay = await Api.PostOrderAsync(withLeaked, firstBody, firstKey))
        {
            await Api.ProblemAsync(replay, HttpStatusCode.Unauthorized, "unauthenticated");
        }
        Assert.Null(working.Services.GetRequiredService<KnownApiKeys>().Find(leaked.Record.KeyHash));
        using (var read = await withLeaked.GetAsync("/v1/orders?limit=1"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, read.StatusCode);
        }
    }
}

[Collection(ServerCollection.Name)]
public sealed class ApiKeysOnSqlite(ServerEnvironment environment) : ApiKeyTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class ApiKeysOnPostgres(ServerEnvironment environment) : ApiKeyTests(environment, StoreKind.Postgres);
