namespace Clearflow.Domain.Orders;

/// <summary>Prefixes of Clearflow's public ids, so an id says what it names.</summary>
public static class IdPrefixes
{
    public const string Order = "ord_";
    public const string Attempt = "att_";
    public const string Merchant = "mer_";
    public const string ApiKey = "key_";
    public const string InboxEvent = "evt_";
}
