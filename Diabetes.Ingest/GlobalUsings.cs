global using Diabetes.Core.Cleaning;
global using Diabetes.Core.Encounters;
global using Diabetes.Ingest.Apis;
global using Diabetes.Ingest.Data;
global using Diabetes.Ingest.Services;
global using Diabetes.Ingest.Sources;
global using Microsoft.Extensions.Options;
global using Diabetes.Ingest;
