// The platform on Azure: one resource group holding a Flex Consumption function app (a .NET isolated worker), its
// storage account (shared keys disabled), a user-assigned identity with least-privilege roles, monitoring, Key Vault
// for the secrets, and optionally Azure AI Search and Azure OpenAI. Deployed by `azd up`.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('Region of every resource.')
param location string

// Not in main.parameters.json: azd generates it on the first `azd up` and keeps it in the environment, so the key
// (and every session signed with it) survives later deployments.
@secure()
@description('Base of the JWT signing key.')
@metadata({
  azd: {
    type: 'generate'
    config: {
      length: 64
      noSpecial: true
    }
  }
})
param jwtSigningKey string

@description('Browser origins allowed to call the API, comma-separated (empty: none).')
param corsAllowedOrigins string

@description('Deploy Azure OpenAI with a chat and an embedding deployment, called keyless by the app.')
param deployAzureOpenAi bool
param azureOpenAiChatModel string
param azureOpenAiChatModelVersion string
param azureOpenAiEmbeddingModel string
param azureOpenAiEmbeddingModelVersion string
@description('Capacity of each Azure OpenAI deployment, in thousands of tokens per minute.')
param azureOpenAiCapacity int

@description('Deploy Azure AI Search for knowledge bases, called keyless by the app.')
param deployAiSearch bool
@allowed([
  'free'
  'basic'
  'standard'
])
param aiSearchSku string

@description('SMTP server for verification and reset mails; empty: mails go to the app log.')
param smtpHost string
param smtpUser string
@secure()
@description('SMTP password (kept in Key Vault).')
param smtpPassword string

var abbrs = loadJsonContent('abbreviations.json')
// Short, stable and unique per subscription, environment and region: resource names that never collide.
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

resource rg 'Microsoft.Resources/resourceGroups@2021-04-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
    publisherPrincipalId: identity.outputs.principalId
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    dataPrincipalId: identity.outputs.principalId
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: '${abbrs.keyVaultVaults}${resourceToken}'
    location: location
    tags: tags
    readerPrincipalId: identity.outputs.principalId
    secrets: {
      // The app wants base64 of at least 32 bytes; the generated 64 characters become 64 bytes.
      'jwt-signing-key': base64(jwtSigningKey)
      'smtp-password': smtpPassword
    }
  }
}

module search 'app/search.bicep' = if (deployAiSearch) {
  name: 'search'
  scope: rg
  params: {
    name: '${abbrs.searchSearchServices}${resourceToken}'
    location: location
    tags: tags
    sku: aiSearchSku
    indexerPrincipalId: identity.outputs.principalId
  }
}

module openAi 'app/openai.bicep' = if (deployAzureOpenAi) {
  name: 'openai'
  scope: rg
  params: {
    name: '${abbrs.cognitiveServicesAccounts}${resourceToken}'
    location: location
    tags: tags
    userPrincipalId: identity.outputs.principalId
    chatModel: azureOpenAiChatModel
    chatModelVersion: azureOpenAiChatModelVersion
    embeddingModel: azureOpenAiEmbeddingModel
    embeddingModelVersion: azureOpenAiEmbeddingModelVersion
    capacity: azureOpenAiCapacity
  }
}

var azureOpenAiEndpoint = deployAzureOpenAi ? openAi.outputs.endpoint : ''
// The gateway's azure-openai kind talks to the account's OpenAI-compatible v1 API: {endpoint}/openai/v1/.
var azureOpenAiBaseUrl = endsWith(azureOpenAiEndpoint, '/') ? '${azureOpenAiEndpoint}openai/v1/' : '${azureOpenAiEndpoint}/openai/v1/'
var azureOpenAiChatDeployment = deployAzureOpenAi ? openAi.outputs.chatDeployment : ''
var azureOpenAiEmbeddingDeployment = deployAzureOpenAi ? openAi.outputs.embeddingDeployment : ''
var aiSearchEndpoint = deployAiSearch ? search.outputs.endpoint : ''
var secretReference = '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.uri}secrets/'

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    planName: '${abbrs.webServerFarms}${resourceToken}'
    name: '${abbrs.webSitesFunctions}${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    keyVaultUri: keyVault.outputs.uri
    corsAllowedOrigins: empty(corsAllowedOrigins) ? [] : split(corsAllowedOrigins, ',')
    // Settings of features that read them when deployed; a Key Vault reference only where a secret was given.
    extraSettings: union(
      // The deployment becomes the gateway's first operator provider. No ApiKey: the account has local auth disabled
      // and the gateway authenticates as the app identity (Cognitive Services OpenAI User) with Entra tokens.
      deployAzureOpenAi ? {
        Models__Providers__0__Name: 'azure-openai'
        Models__Providers__0__Kind: 'azure-openai'
        Models__Providers__0__BaseUrl: azureOpenAiBaseUrl
        Models__Providers__0__Models__0__Id: azureOpenAiChatDeployment
        Models__Providers__0__Models__0__UpstreamModel: azureOpenAiChatDeployment
        Models__Providers__0__Models__1__Id: azureOpenAiEmbeddingDeployment
        Models__Providers__0__Models__1__UpstreamModel: azureOpenAiEmbeddingDeployment
        Models__Providers__0__Models__1__Embedding: 'true'
        Assistant__Model: azureOpenAiChatDeployment
      } : {},
      // Knowledge bases search the deployed AI Search service as the app identity (no key: local auth is disabled).
      deployAiSearch ? {
        Search__Provider: 'AzureAISearch'
        Search__AzureAISearch__Endpoint: aiSearchEndpoint
      } : {},
      empty(smtpHost) ? {} : {
        Email__SmtpHost: smtpHost
        Email__SmtpUser: smtpUser
        Email__SmtpPassword: '${secretReference}smtp-password)'
      })
  }
}

// Read by azd (and by scripts) after provisioning.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_CLIENT_ID string = identity.outputs.clientId
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.applicationInsightsConnectionString
output AZURE_OPENAI_ENDPOINT string = azureOpenAiEndpoint
output AZURE_SEARCH_ENDPOINT string = aiSearchEndpoint
