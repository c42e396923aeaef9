using Clearflow.Application.Common;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Payments;

/// <summary>The stored form of a <see cref="GatewayObservation"/> in an inbox event.</summary>
public static class ObservationJson
{
    private sealed record Dto(string Status, long? Amount, string? Currency);

    public static string Write(GatewayObservation observation) =>
        Json.Serialize(new Dto(observation.Status.ToString(), observation.AmountMinor, observation.Currency));

    public static GatewayObservation Read(string json)
    {
        var dto = Json.Deserialize<Dto>(json);
        return new GatewayObservation(Enum.Parse<GatewayPaymentStatus>(dto.Status), dto.Amount, dto.Currency);
    }
}
