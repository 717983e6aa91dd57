// The function app: a Flex Consumption (FC1) plan running the platform as a .NET isolated worker (dotnet-isolated,
// .NET 10). The Functions host starts the published worker, hands each HTTP request to its function (one per endpoint)
// and fires its timer and queue functions, the queue triggers reading AzureWebJobsStorage with the app identity.

param planName string
param name string
param location string
param tags object
param identityId string
param identityClientId string
param storageAccountName string
param storageBlobEndpoint string
param storageQueueEndpoint string
param storageTableEndpoint string
param deploymentContainerName string
param applicationInsightsConnectionString string
param keyVaultUri string
@description('Origins allowed to call the API from a browser.')
param corsAllowedOrigins array
@description('App settings beyond the platform\'s own (AI endpoints, mail).')
param extraSettings object
param maximumInstanceCount int = 40
param instanceMemoryMB int = 2048

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the app identity, not a system identity the app does not have.
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      cors: {
        allowedOrigins: corsAllowedOrigins
        supportCredentials: false
      }
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      // Flex Consumption takes the language and version here, not from FUNCTIONS_WORKER_RUNTIME or
      // FUNCTIONS_EXTENSION_VERSION app settings (it does not accept those).
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

// Every setting the platform binds is either here or left at the default the README's settings reference documents.
resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: union({
    // AzureWebJobsStorage: the Functions host's own storage (host locks, timer schedules) and the connection of the
    // queue triggers. The same account, reached with the app identity (Storage Blob Data Owner, Queue Data Contributor
    // and Table Data Contributor, storage.bicep); the blob, queue and table URIs follow from the account name.
    AzureWebJobsStorage__accountName: storageAccountName
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    // Telemetry of the host and of the worker (the worker's Application Insights package reads the same two
    // settings), sent with an Entra token of the app identity: the Application Insights resource refuses keys.
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    // DefaultAzureCredential in the app picks the user-assigned identity by this client id.
    AZURE_CLIENT_ID: identityClientId
    // Durable Functions (host.json durableTask) keeps workflow runs in this task hub of the AzureWebJobsStorage account.
    Durable__TaskHub: 'workflows'
    Storage__Provider: 'AzureStorage'
    Storage__AccountName: storageAccountName
    Storage__BlobServiceUri: storageBlobEndpoint
    Storage__QueueServiceUri: storageQueueEndpoint
    Storage__TableServiceUri: storageTableEndpoint
    Auth__JwtSigningKey: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/jwt-signing-key)'
    Email__PublicBaseUrl: 'https://${app.properties.defaultHostName}'
    // The Functions host fires the timer and queue functions; the standalone trigger host is off anyway in worker mode.
    Triggers__Enabled: 'false'
  }, extraSettings)
}

output name string = app.name
output uri string = 'https://${app.properties.defaultHostName}'
