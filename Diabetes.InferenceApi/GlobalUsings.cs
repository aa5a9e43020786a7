global using Diabetes.InferenceApi;
global using Diabetes.InferenceApi.Apis;
