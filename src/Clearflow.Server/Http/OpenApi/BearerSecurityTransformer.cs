using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Clearflow.Server.Http.OpenApi;

/// <summary>Tells readers of the OpenAPI document how to authenticate.</summary>
public sealed class BearerSecurityTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        document.Info.Title = "Clearflow API";
        document.Info.Description = "Self-hosted payment handling. Authenticate with `Authorization: Bearer sk_test_...` (merchant secret key) " +
                                    "or, to read one order, its `client_secret`. Errors are RFC 9457 problem details with a `code`.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "A merchant secret key (sk_test_... / sk_live_...) or an order's client_secret.",
        };
        document.Security ??= [];
        document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] });
        return Task.CompletedTask;
    }
}
