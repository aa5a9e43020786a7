global using Diabetes.Web;
