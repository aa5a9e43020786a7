using Scalar.AspNetCore;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();

app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapScalarApiReference();
app.MapPredictionsApi();
app.MapDriftApi();
app.MapTrafficApi();
app.MapOutcomesApi();
app.MapPerformanceApi();

app.Run();
