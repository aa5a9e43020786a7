using System.Text.Json;
using Diabetes.Core.Data;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Storage;
using Diabetes.InferenceApi.Data;
using Diabetes.InferenceApi.Monitoring;
using Diabetes.InferenceApi.Serving;
using FluentValidation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

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
        builder.Services.AddExceptionHandler<PredictionLogProblemHandler>();
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
        builder.AddPredictionLog();
        return builder;
    }

    /// <summary>
    /// The prediction log in the database <c>monitoring</c>, when its connection string is set; without it the log is
    /// off and predictions are answered all the same.
    /// </summary>
    private static void AddPredictionLog(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<MonitoringOptions>()
            .BindConfiguration("Monitoring")
            .Validate(options => options.RetentionDays >= 1, "Monitoring:RetentionDays must be at least 1.")
            .Validate(options => options.QueueCapacity >= 1, "Monitoring:QueueCapacity must be at least 1.")
            .Validate(options => options.BatchSize is >= 1 && options.BatchSize <= options.QueueCapacity,
                "Monitoring:BatchSize must be at least 1 and at most Monitoring:QueueCapacity.")
            .Validate(options => options.PsiWarn > 0 && options.PsiAlert > options.PsiWarn,
                "Monitoring:PsiWarn must be above 0 and Monitoring:PsiAlert above Monitoring:PsiWarn.")
            .Validate(options => options.MinimumRows >= 1, "Monitoring:MinimumRows must be at least 1.")
            .Validate(options => options.MinimumOutcomes >= 1, "Monitoring:MinimumOutcomes must be at least 1.")
            .Validate(options => options.AucDrop is > 0 and < 1, "Monitoring:AucDrop must be between 0 and 1.")
            .ValidateOnStart();

        var enabled = !string.IsNullOrEmpty(builder.Configuration.GetConnectionString(PredictionLog.ConnectionName));
        builder.Services.AddSingleton<DriftReport>();
        builder.Services.AddSingleton(services => new PredictionLog(
            enabled ? services.GetRequiredService<IOptions<MonitoringOptions>>().Value.QueueCapacity : null,
            services.GetRequiredService<ServingTelemetry>(), services.GetRequiredService<TimeProvider>()));
        if (!enabled)
        {
            return;
        }

        // The log's own readiness check says Degraded while PostgreSQL cannot take it; the data source's would say
        // Unhealthy and take an instance that answers predictions out of rotation.
        // No span per COPY either: the writer's transactions are not requests anyone traces.
        builder.AddNpgsqlDataSource(PredictionLog.ConnectionName, settings =>
        {
            settings.DisableHealthChecks = true;
            settings.DisableTracing = true;
        });
        builder.AddNpgsqlDbContext<MonitoringDataContext>(PredictionLog.ConnectionName,
            settings =>
            {
                settings.DisableHealthChecks = true;
                settings.DisableRetry = true;
            },
            options => options.UseNpgsql(npgsql => npgsql.MigrationsHistoryTable(MonitoringDataContext.HistoryTable)));
        builder.Services.AddSingleton<DatabaseSchema<MonitoringDataContext>>();
        builder.Services.AddSingleton<PredictionPartitions>();
        builder.Services.AddSingleton<OutcomeStore>();
        builder.Services.AddHostedService<PredictionLogMaintenance>();
        builder.Services.AddHostedService<PredictionLogWriter>();
        builder.Services.AddHealthChecks().AddCheck<PredictionLogHealthCheck>("prediction-log", tags: ["ready"]);
    }
}
