namespace Clearflow.Domain.Ledger;

/// <summary>
/// Which accounts a money movement touches. Captured money sits with the gateway until it settles
/// (<c>gateway_clearing</c>) and is owed to the merchant (<c>merchant_payable</c>); a refund reverses
/// that; a fee the gateway keeps is an expense paid out of clearing.
/// </summary>
public static class LedgerRules
{
    public const string CaptureKind = "capture";
    public const string RefundKind = "refund";
    public const string FeeKind = "fee";
    public const string FeesAccount = "gateway_fees";

    public static string GatewayClearing(string gateway) => "gateway_clearing:" + gateway;

    public static string MerchantPayable(string merchantId) => "merchant_payable:" + merchantId;

    public static LedgerTransaction Capture(string merchantId, string orderId, string gateway, long amount, string currency) =>
        LedgerTransaction.Create($"capture:{orderId}", CaptureKind, merchantId, orderId,
            [new Posting(GatewayClearing(gateway), amount, currency), new Posting(MerchantPayable(merchantId), -amount, currency)]);

    public static LedgerTransaction Refund(string merchantId, string orderId, string refundId, string gateway, long amount, string currency) =>
        LedgerTransaction.Create($"refund:{refundId}", RefundKind, merchantId, orderId,
            [new Posting(MerchantPayable(merchantId), amount, currency), new Posting(GatewayClearing(gateway), -amount, currency)]);

    public static LedgerTransaction Fee(string merchantId, string orderId, string gateway, long fee, string currency) =>
        LedgerTransaction.Create($"fee:{orderId}", FeeKind, merchantId, orderId,
            [new Posting(FeesAccount, fee, currency), new Posting(GatewayClearing(gateway), -fee, currency)]);
}
