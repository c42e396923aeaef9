using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Clearflow.Server.Http.OpenApi;

/// <summary>
/// Documents a JSON request body for an endpoint that reads raw bytes itself. (<c>Accepts&lt;T&gt;</c>
/// would also make routing answer 415 before authentication, hiding the 401 a wrong key deserves.)
/// </summary>
public sealed record RequestBodyDoc(Type BodyType);

public sealed class RequestBodyDocTransformer : IOpenApiOperationTransformer
{
    public async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(context);
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<RequestBodyDoc>().FirstOrDefault() is not { } doc)
        {
            return;
        }
        var schema = await context.GetOrCreateSchemaAsync(doc.BodyType, null, cancellationToken);
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schema } },
        };
    }
}
