global using Diabetes.Trainer;
global using Diabetes.Trainer.Apis;
global using Microsoft.AspNetCore.Mvc;
