global using System.Reflection;
