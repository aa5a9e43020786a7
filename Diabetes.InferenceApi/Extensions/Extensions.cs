using System.Text.Json;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Storage;
using Diabetes.InferenceApi.Serving;
using FluentValidation;

namespace Diabetes.InferenceApi;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ServingOptions>()
            .BindConfiguration("Serving")
            .Validate(options => options.RefreshInterval > TimeSpan.Zero, "Serving:RefreshInterval must be longer than zero.")
            .ValidateOnStart();

        builder.Services.AddMlflowClient();
        // Model folders whose root is s3:// are read straight from the object store, when one is configured.
        if (!string.IsNullOrEmpty(builder.Configuration.GetConnectionString("minio")))
        {
            builder.AddMinioClient("minio");
        }

        builder.Services.AddHealthChecks().AddCheck<ServingHealthCheck>("serving", tags: ["ready"]);
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, InferenceJsonContext.Default));
        builder.Services.AddOpenApi();

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IValidator<JsonElement>, EncounterRequestValidator>();
        builder.Services.AddSingleton<EncounterReader>();
        builder.Services.AddSingleton<ServingState>();
        builder.Services.AddSingleton<ServingTelemetry>();
        builder.Services.AddSingleton<ModelLoader>();
        builder.Services.AddSingleton<ProductionModelWatcher>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ProductionModelWatcher>());
        return builder;
    }
}
