using Microsoft.Extensions.Options;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Storage;
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
        builder.AddKeyedNpgsqlDataSource(CleanDataReader.ConnectionName);
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
        builder.Services.AddSingleton<TrainingJobHistory>();
        builder.Services.AddSingleton<TrainingWorkflow>();
        builder.Services.AddSingleton<PromotionService>();
        builder.Services.AddHostedService<TrainingJobRunner>();
        builder.Services.AddHostedService<InterruptedRunsReconciler>();
        return builder;
    }
}
