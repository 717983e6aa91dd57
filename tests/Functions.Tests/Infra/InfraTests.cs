using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Infra;

/// <summary>
/// No Bicep compiler runs here, so the infrastructure is held to the app by reading it as text and JSON: parameters
/// agree, every setting the app binds is wired or defaulted, every role the code needs is granted (and no broader
/// one), names follow abbreviations.json, and the storage the app uses is keyless.
/// </summary>
public sealed partial class InfraTests
{
    private static readonly string InfraDirectory = Path.Combine(RepoPaths.Root, "Infra");
    private static readonly string MainBicep = File.ReadAllText(Path.Combine(InfraDirectory, "main.bicep"));
    private static readonly string AllBicep = string.Join("\n", Directory.GetFiles(InfraDirectory, "*.bicep", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(File.ReadAllText));

    // Role definition ids the platform needs, and why.
    private static readonly Dictionary<string, string> RequiredRoles = new(StringComparer.Ordinal)
    {
        ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = "Storage Blob Data Owner (deployment package, host leases, spilled documents, generated secrets)",
        ["974c5e8b-45b9-4653-ba55-5f855dd0fb88"] = "Storage Queue Data Contributor (work queues and queue triggers)",
        ["0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"] = "Storage Table Data Contributor (entity store)",
        ["3913510d-42f4-4e42-8a64-420c390055eb"] = "Monitoring Metrics Publisher (telemetry without keys)",
        ["4633458b-17de-408a-b874-0445c86b69e6"] = "Key Vault Secrets User (Key Vault references in app settings)",
        ["8ebe5a00-799e-43f5-93ac-243d3dce84a7"] = "Search Index Data Contributor (when AI Search is deployed)",
        ["7ca78c08-252a-4471-8644-bb5ff32d4ba0"] = "Search Service Contributor (the search adapter creates its index when missing)",
        ["5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"] = "Cognitive Services OpenAI User (when Azure OpenAI is deployed)",
    };

    // Every resource type the templates create under a name of their own, and the abbreviation that name starts with.
    private static readonly Dictionary<string, string> AbbreviationOf = new(StringComparer.Ordinal)
    {
        ["Microsoft.Resources/resourceGroups"] = "resourcesResourceGroups",
        ["Microsoft.ManagedIdentity/userAssignedIdentities"] = "managedIdentityUserAssignedIdentities",
        ["Microsoft.OperationalInsights/workspaces"] = "operationalInsightsWorkspaces",
        ["Microsoft.Insights/components"] = "insightsComponents",
        ["Microsoft.Storage/storageAccounts"] = "storageStorageAccounts",
        ["Microsoft.KeyVault/vaults"] = "keyVaultVaults",
        ["Microsoft.Search/searchServices"] = "searchSearchServices",
        ["Microsoft.CognitiveServices/accounts"] = "cognitiveServicesAccounts",
        ["Microsoft.Web/serverfarms"] = "webServerFarms",
        ["Microsoft.Web/sites"] = "webSitesFunctions",
    };

    [Fact]
    public void Parameters_FileAndTemplate_DeclareTheSameParameters()
    {
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(InfraDirectory, "main.parameters.json")))!["parameters"]!.AsObject()
            .Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        var template = Parameters(MainBicep);
        // azd itself supplies a parameter marked `type: 'generate'`, and keeps the value in the environment.
        var expectedInFile = template.Where(p => !p.Generated).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);

        Assert.True(template.Count >= 5, "No parameters were read from main.bicep.");
        Assert.Empty(file.Except(template.Select(p => p.Name)));
        Assert.Empty(expectedInFile.Except(file));
        Assert.DoesNotContain(template, p => p.Generated && file.Contains(p.Name));
    }

    [Fact]
    public void Settings_EveryBoundOption_IsSetForTheFunctionAppOrDocumentedWithItsDefault()
    {
        var setInAzure = SettingKey().Matches(AllBicep).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var documented = DocumentedDefaults();

        var undocumented = BoundSettings.All.Where(s => !BoundSettings.IsPresent(s, documented.Keys)).ToList();
        var unwired = BoundSettings.All.Where(s => !BoundSettings.IsPresent(s, setInAzure) && string.IsNullOrWhiteSpace(documented.GetValueOrDefault(s))).ToList();

        Assert.True(undocumented.Count == 0, "Missing from the README's settings reference: " + string.Join(", ", undocumented));
        Assert.True(unwired.Count == 0, "Neither set in Infra nor given a documented default: " + string.Join(", ", unwired));
    }

    [Fact]
    public void Settings_EverySectionedSettingInInfra_IsOneTheAppBinds_OrTheFunctionsHosts()
    {
        // APPLICATIONINSIGHTS_*, AZURE_CLIENT_ID and FUNCTIONS_* have no "__"; the host's own storage settings do.
        var settings = AppSettingKeys(AllBicep);

        var unread = settings.Where(k => !k.StartsWith("AzureWebJobsStorage__", StringComparison.Ordinal) && !BoundSettings.IsBound(k)).ToList();

        Assert.Contains("Storage__Provider", settings);
        Assert.Contains("Models__Providers__0__Models__1__Embedding", settings);
        Assert.True(unread.Count == 0, "Set in Infra but read by nothing in the app: " + string.Join(", ", unread));
    }

    [Fact]
    public void AzureOpenAi_WhenDeployed_IsTheGatewaysFirstProvider_Keyless()
    {
        var start = MainBicep.IndexOf("deployAzureOpenAi ? {", StringComparison.Ordinal);
        Assert.True(start >= 0, "main.bicep sets no settings when Azure OpenAI is deployed.");
        var block = MainBicep[start..MainBicep.IndexOf("} : {}", start, StringComparison.Ordinal)];
        var settings = AppSettingLine().Matches(block).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim(), StringComparer.Ordinal);
        var baseUrl = Regex.Match(MainBicep, $@"var {Regex.Escape(settings["Models__Providers__0__BaseUrl"])} = (.+)").Groups[1].Value;

        Assert.Equal("'azure-openai'", settings["Models__Providers__0__Kind"]);
        Assert.Equal("'azure-openai'", settings["Models__Providers__0__Name"]);
        // The form the gateway's azure-openai kind expects: the account endpoint + openai/v1/.
        Assert.Contains("azureOpenAiEndpoint", baseUrl, StringComparison.Ordinal);
        Assert.Contains("openai/v1/'", baseUrl, StringComparison.Ordinal);
        Assert.Equal(settings["Models__Providers__0__Models__0__Id"], settings["Models__Providers__0__Models__0__UpstreamModel"]);
        Assert.Equal(settings["Models__Providers__0__Models__1__Id"], settings["Models__Providers__0__Models__1__UpstreamModel"]);
        Assert.Contains("Chat", settings["Models__Providers__0__Models__0__Id"], StringComparison.Ordinal);
        Assert.Contains("Embedding", settings["Models__Providers__0__Models__1__Id"], StringComparison.Ordinal);
        Assert.Equal("'true'", settings["Models__Providers__0__Models__1__Embedding"]);
        Assert.Equal(settings["Models__Providers__0__Models__0__Id"], settings["Assistant__Model"]);
        // Keyless: the account has local auth disabled, and no setting anywhere carries a provider key.
        Assert.DoesNotContain(AppSettingKeys(AllBicep), k => k.Contains("ApiKey", StringComparison.OrdinalIgnoreCase));
        Assert.Contains("disableLocalAuth: true", File.ReadAllText(Path.Combine(InfraDirectory, "app", "openai.bicep")), StringComparison.Ordinal);
    }

    [Fact]
    public void FunctionApp_Settings_UseTheStorageAccountKeylessAndTheSigningKeyFromKeyVault()
    {
        var api = File.ReadAllText(Path.Combine(InfraDirectory, "app", "api.bicep"));

        Assert.Contains("Storage__Provider: 'AzureStorage'", api, StringComparison.Ordinal);
        Assert.Contains("Storage__AccountName: storageAccountName", api, StringComparison.Ordinal);
        Assert.Contains("AzureWebJobsStorage__credential: 'managedidentity'", api, StringComparison.Ordinal);
        Assert.Contains("Auth__JwtSigningKey: '@Microsoft.KeyVault(SecretUri=", api, StringComparison.Ordinal);
        Assert.DoesNotContain("ConnectionString:", api.Replace("APPLICATIONINSIGHTS_CONNECTION_STRING", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("AccountKey", AllBicep, StringComparison.Ordinal);
        Assert.DoesNotContain("listKeys(", AllBicep, StringComparison.Ordinal);
        Assert.Contains("name: 'dotnet-isolated'", api, StringComparison.Ordinal);
        Assert.Contains("name: 'FC1'", api, StringComparison.Ordinal);
    }

    /// <summary>
    /// The app is a .NET isolated worker: Flex Consumption runs it as dotnet-isolated 10.0 (given in functionAppConfig,
    /// never as FUNCTIONS_* app settings, which that plan does not take), and host.json is a worker's, not a custom
    /// handler's: no customHandler section, no extension bundle, routes without a prefix, the queue settings kept.
    /// </summary>
    [Fact]
    public void FunctionApp_Runtime_IsDotnetIsolated10_AndHostJsonHasNoCustomHandler()
    {
        var api = File.ReadAllText(Path.Combine(InfraDirectory, "app", "api.bicep"));
        var runtime = FunctionAppRuntime().Match(api);

        Assert.True(runtime.Success, "api.bicep declares no functionAppConfig runtime { name, version }.");
        Assert.Equal("dotnet-isolated", runtime.Groups["name"].Value);
        Assert.Equal("10.0", runtime.Groups["version"].Value);
        Assert.Empty(FunctionsSetting().Matches(AllBicep).Select(m => m.Groups[1].Value));

        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.FunctionsDirectory, "host.json")))!.AsObject();
        Assert.False(host.ContainsKey("customHandler"), "host.json still declares a custom handler.");
        Assert.False(host.ContainsKey("extensionBundle"), "host.json still names an extension bundle; the isolated worker brings its own extensions.");
        Assert.Equal("", host["extensions"]?["http"]?["routePrefix"]?.GetValue<string>());
        Assert.Equal(5, host["extensions"]?["queues"]?["maxDequeueCount"]?.GetValue<int>());
    }

    [Fact]
    public void Roles_EveryRoleTheCodeNeeds_IsAssignedAndNoOther()
    {
        var assigned = RoleId().Matches(AllBicep).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);

        var missing = RequiredRoles.Where(r => !assigned.Contains(r.Key)).Select(r => r.Value).ToList();
        var extra = assigned.Where(id => !RequiredRoles.ContainsKey(id)).ToList();

        Assert.True(missing.Count == 0, "Roles never assigned: " + string.Join("; ", missing));
        Assert.True(extra.Count == 0, "Roles beyond what the code needs: " + string.Join(", ", extra));
    }

    [Fact]
    public void Roles_EveryGrantee_IsTheAppIdentity()
    {
        var grantees = PrincipalArgument().Matches(MainBicep).Select(m => m.Groups[1].Value).ToList();

        Assert.True(grantees.Count >= 5, "No role grantees were read from main.bicep.");
        Assert.All(grantees, g => Assert.Equal("identity.outputs.principalId", g));
    }

    [Fact]
    public void Services_ThatOfferKeys_HaveLocalAuthDisabled()
    {
        foreach (var module in new[] { "monitoring.bicep", "search.bicep", "openai.bicep" })
        {
            var text = File.ReadAllText(Path.Combine(InfraDirectory, "app", module));
            Assert.True(LocalAuthDisabled().IsMatch(text), $"{module} leaves local (key) authentication on.");
        }

        var storage = File.ReadAllText(Path.Combine(InfraDirectory, "app", "storage.bicep"));
        Assert.Contains("allowSharedKeyAccess: false", storage, StringComparison.Ordinal);
        Assert.Contains("allowBlobPublicAccess: false", storage, StringComparison.Ordinal);
    }

    /// <summary>
    /// Telemetry leaves the app only with an Entra token: the Application Insights component itself (not just the Log
    /// Analytics workspace) refuses keys, the app identity holds Monitoring Metrics Publisher on that component, and the
    /// app is told to authenticate as that identity.
    /// </summary>
    [Fact]
    public void Monitoring_ApplicationInsights_RefusesKeys_AndTheAppIdentityPublishesWithEntra()
    {
        var monitoring = File.ReadAllText(Path.Combine(InfraDirectory, "app", "monitoring.bicep"));
        var api = File.ReadAllText(Path.Combine(InfraDirectory, "app", "api.bicep"));

        var component = ResourceBlock(monitoring, "Microsoft.Insights/components@");
        Assert.Contains("DisableLocalAuth: true", component, StringComparison.Ordinal);
        var publisher = ResourceBlock(monitoring, "Microsoft.Authorization/roleAssignments@");
        Assert.Contains("scope: applicationInsights", publisher, StringComparison.Ordinal);
        Assert.Contains("principalId: publisherPrincipalId", publisher, StringComparison.Ordinal);
        Assert.Contains("var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'", monitoring, StringComparison.Ordinal);
        Assert.Contains("roleDefinitions', monitoringMetricsPublisher)", publisher, StringComparison.Ordinal);
        Assert.Contains("publisherPrincipalId: identity.outputs.principalId", MainBicep, StringComparison.Ordinal);
        Assert.Contains("APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'", api, StringComparison.Ordinal);
    }

    /// <summary>The text of the resource declared with <paramref name="typePrefix"/>, up to the next top-level declaration.</summary>
    private static string ResourceBlock(string bicep, string typePrefix)
    {
        var start = bicep.IndexOf($"'{typePrefix}", StringComparison.Ordinal);
        Assert.True(start >= 0, $"No {typePrefix} resource is declared.");
        var end = bicep.IndexOf("\n}", start, StringComparison.Ordinal);
        return end < 0 ? bicep[start..] : bicep[start..end];
    }

    [Fact]
    public void Storage_QueueOfEveryQueueFunction_IsDeclaredWithItsPoisonQueue()
    {
        var storage = File.ReadAllText(Path.Combine(InfraDirectory, "app", "storage.bicep"));
        var queueFunctions = Serverless.Functions.Triggers.TriggerCatalog.Scan(typeof(Serverless.Functions.Triggers.TriggerFunctions).Assembly).Select(f => f.QueueName).OfType<string>().ToList();

        Assert.NotEmpty(queueFunctions);
        Assert.All(queueFunctions, queue =>
        {
            Assert.Contains($"'{queue}'", storage, StringComparison.Ordinal);
            Assert.Contains($"'{queue}-poison'", storage, StringComparison.Ordinal);
        });
    }

    /// <summary>
    /// Production storage is created by Bicep, not by the app, so a table the code writes but Infra does not declare
    /// would only fail in Azure. Every table name in the code (typed tables and the engine's table constants) is declared.
    /// </summary>
    [Fact]
    public void Storage_EveryTableTheCodeUses_IsDeclared()
    {
        var storage = File.ReadAllText(Path.Combine(InfraDirectory, "app", "storage.bicep"));
        var code = string.Join("\n", new[] { "Functions", "Orchestrations" }
            .SelectMany(d => Directory.GetFiles(Path.Combine(RepoPaths.Root, d), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText));
        var used = TableInCode().Matches(code).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

        Assert.True(used.Count >= 20, "The scan found too few tables; the patterns no longer match the code.");
        var undeclared = used.Where(t => !storage.Contains($"'{t}'", StringComparison.Ordinal)).Order().ToList();
        Assert.True(undeclared.Count == 0, "Tables the code uses but Infra/app/storage.bicep does not declare: " + string.Join(", ", undeclared));
    }

    [Fact]
    public void Names_EveryNamedResource_StartsWithItsAbbreviation()
    {
        var abbreviations = JsonNode.Parse(File.ReadAllText(Path.Combine(InfraDirectory, "abbreviations.json")))!.AsObject();
        var types = ResourceType().Matches(AllBicep).Select(m => m.Groups[1].Value)
            .Where(t => t.Count(c => c == '/') == 1 && t != "Microsoft.Authorization/roleAssignments")
            .ToHashSet(StringComparer.Ordinal);
        var used = AbbreviationUse().Matches(MainBicep).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

        Assert.True(types.Count >= 8, "No resource types were read from the templates.");
        var unmapped = types.Where(t => !AbbreviationOf.ContainsKey(t)).ToList();
        Assert.True(unmapped.Count == 0, "Resource types without an abbreviation rule here: " + string.Join(", ", unmapped));
        Assert.All(types, t =>
        {
            Assert.True(abbreviations.ContainsKey(AbbreviationOf[t]), $"abbreviations.json has no {AbbreviationOf[t]}.");
            Assert.Contains(AbbreviationOf[t], used);
        });
        Assert.All(used, key => Assert.True(abbreviations.ContainsKey(key), $"main.bicep uses abbrs.{key}, which abbreviations.json lacks."));
        Assert.Empty(HardCodedName().Matches(MainBicep));
    }

    [Fact]
    public void AzureYaml_ApiService_DeploysTheFunctionsProjectAsAFunctionApp()
    {
        var yaml = File.ReadAllLines(Path.Combine(RepoPaths.Root, "azure.yaml")).Select(l => l.Trim()).ToList();

        Assert.Contains("api:", yaml);
        Assert.Contains("project: ./Functions", yaml);
        Assert.Contains("language: dotnet", yaml);
        Assert.Contains("host: function", yaml);
        Assert.Contains("path: Infra", yaml);
        Assert.Contains("tags: union(tags, {\n    'azd-service-name': 'api'", File.ReadAllText(Path.Combine(InfraDirectory, "app", "api.bicep")).ReplaceLineEndings("\n"), StringComparison.Ordinal);
        foreach (var output in new[] { "AZURE_LOCATION", "AZURE_RESOURCE_GROUP", "SERVICE_API_NAME", "SERVICE_API_URI" })
        {
            Assert.Contains($"output {output} string", MainBicep, StringComparison.Ordinal);
        }

        Assert.Contains("targetScope = 'subscription'", MainBicep, StringComparison.Ordinal);
        Assert.Contains("'azd-env-name': environmentName", MainBicep, StringComparison.Ordinal);
    }

    private static List<(string Name, bool Generated)> Parameters(string bicep)
    {
        var parameters = new List<(string, bool)>();
        var decorators = new List<string>();
        foreach (var line in bicep.Split('\n').Select(l => l.Trim()))
        {
            if (ParameterLine().Match(line) is { Success: true } match)
            {
                parameters.Add((match.Groups[1].Value, decorators.Any(d => d.Contains("type: 'generate'", StringComparison.Ordinal))));
                decorators.Clear();
            }
            else if (line.Length == 0 || line.StartsWith("var ", StringComparison.Ordinal) || line.StartsWith("resource ", StringComparison.Ordinal))
            {
                decorators.Clear();
            }
            else
            {
                decorators.Add(line);
            }
        }

        return parameters;
    }

    /// <summary>The README's settings reference: setting → documented default (its second column).</summary>
    private static Dictionary<string, string> DocumentedDefaults()
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));
        var start = readme.IndexOf("## Settings reference", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no '## Settings reference' section.");
        var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = end < 0 ? readme[start..] : readme[start..end];
        return SettingsRow().Matches(section).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim().Trim('`').Replace("–", "", StringComparison.Ordinal), StringComparer.Ordinal);
    }

    private static List<string> AppSettingKeys(string bicep) =>
        [.. AppSettingLine().Matches(bicep).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal)];

    [GeneratedRegex(@"^param (\w+) ")]
    private static partial Regex ParameterLine();

    // new(store, "users") for typed tables; Table = "executions" / ByWorkspace = "…" constants in the engine's stores.
    [GeneratedRegex(@"(?:new\(store, ""|(?:Table|EventsTable|ByWorkspace|ByWorkflow) = "")([a-z][a-z0-9]{2,62})""")]
    private static partial Regex TableInCode();

    [GeneratedRegex(@"\b([A-Za-z][A-Za-z0-9]*__[A-Za-z][A-Za-z0-9]*)\s*:")]
    private static partial Regex SettingKey();

    // A whole app setting line of a Bicep object, list indices included: `Models__Providers__0__Name: 'x'`.
    [GeneratedRegex(@"^\s*([A-Za-z][A-Za-z0-9]*(?:__[A-Za-z0-9]+)+)\s*:\s*(.*)$", RegexOptions.Multiline)]
    private static partial Regex AppSettingLine();

    [GeneratedRegex(@"runtime:\s*\{\s*name:\s*'(?<name>[^']*)'\s*version:\s*'(?<version>[^']*)'\s*\}")]
    private static partial Regex FunctionAppRuntime();

    // An app setting the Functions platform reads by itself (FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION,
    // FUNCTIONS_CUSTOMHANDLER_PORT …) set as a Bicep object key.
    [GeneratedRegex(@"^\s*(FUNCTIONS_[A-Z_]+)\s*:", RegexOptions.Multiline)]
    private static partial Regex FunctionsSetting();

    [GeneratedRegex(@"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex RoleId();

    [GeneratedRegex(@"\w+PrincipalId: ([\w.]+)")]
    private static partial Regex PrincipalArgument();

    [GeneratedRegex(@"disableLocalAuth: true", RegexOptions.IgnoreCase)]
    private static partial Regex LocalAuthDisabled();

    [GeneratedRegex(@"resource \w+ '([A-Za-z.]+/[A-Za-z/]+)@")]
    private static partial Regex ResourceType();

    [GeneratedRegex(@"abbrs\.(\w+)")]
    private static partial Regex AbbreviationUse();

    // A resource name handed to a module (a param, indented under params:) is '${abbrs.x}${resourceToken}'-shaped,
    // never a literal; the module's own deployment name (indented less) is not a resource name.
    [GeneratedRegex(@"^ {4}(?:name|planName|logAnalyticsName|applicationInsightsName): '(?!\$\{abbrs\.)[^']*'", RegexOptions.Multiline)]
    private static partial Regex HardCodedName();

    [GeneratedRegex(@"^\| `([A-Za-z]+(?:__[A-Za-z]+)+)` \| ([^|]*) \|", RegexOptions.Multiline)]
    private static partial Regex SettingsRow();
}
