using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Storage;
using Diabetes.Trainer.Data;
using Diabetes.Trainer.Promotion;
using Diabetes.Trainer.Training;

namespace Diabetes.Trainer;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TrainingOptions>()
            .BindConfiguration("Training")
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TrainingOptions>, TrainingOptionsValidator>();
        builder.Services.AddOptions<PromotionOptions>()
            .BindConfiguration("Promotion")
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<PromotionOptions>, PromotionOptionsValidator>();
        builder.AddKeyedNpgsqlDataSource(CleanDataReader.ConnectionName);
        // The trainer's own tables (job leases) in the same database, migrated with EF Core under their own history
        // table. The data source's readiness check already watches the database; a migration is retried as a whole.
        builder.AddNpgsqlDbContext<TrainerDataContext>(CleanDataReader.ConnectionName,
            settings =>
            {
                settings.DisableHealthChecks = true;
                settings.DisableRetry = true;
            },
            options => options.UseNpgsql(npgsql => npgsql.MigrationsHistoryTable(TrainerDataContext.HistoryTable)));
        builder.Services.AddSingleton<TrainerSchema>();
        builder.Services.AddHostedService<TrainerSchemaStartUp>();
        builder.Services.AddHealthChecks().AddCheck<TrainerSchema>("job-leases", tags: ["ready"]);
        builder.Services.AddMlflowClient();
        builder.Services.AddHealthChecks().AddCheck<MlflowHealthCheck>(MlflowClientExtensions.ServiceName, tags: ["ready"]);

        // Artifacts whose root is s3:// are read and written straight in the object store, when one is configured.
        if (!string.IsNullOrEmpty(builder.Configuration.GetConnectionString("minio")))
        {
            builder.AddMinioClient("minio");
        }

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<Apis.TrainerProblemHandler>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<CleanDataReader>();
        builder.Services.AddSingleton<TrainingJobs>();
        builder.Services.AddSingleton<JobLeases>();
        builder.Services.AddSingleton<TrainingJobHistory>();
        builder.Services.AddSingleton<TrainingWorkflow>();
        builder.Services.AddSingleton<PromotionService>();
        builder.Services.AddHostedService<TrainingJobRunner>();
        builder.Services.AddHostedService<InterruptedRunsReconciler>();
        return builder;
    }
}
