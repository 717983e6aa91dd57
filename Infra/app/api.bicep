// The function app: a Flex Consumption (FC1) plan running the platform as a custom handler. The Functions host
// starts the published executable (host.json), routes HTTP to it and fires its timer and queue triggers.

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
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    }
  }
}

// Every setting the platform binds is either here or left at the default the README's settings reference documents.
resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: union({
    // The Functions host's own storage (timers, queue triggers) — the same account, reached with the app identity.
    AzureWebJobsStorage__accountName: storageAccountName
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    // DefaultAzureCredential in the app picks the user-assigned identity by this client id.
    AZURE_CLIENT_ID: identityClientId
    Storage__Provider: 'AzureStorage'
    Storage__AccountName: storageAccountName
    Storage__BlobServiceUri: storageBlobEndpoint
    Storage__QueueServiceUri: storageQueueEndpoint
    Storage__TableServiceUri: storageTableEndpoint
    Auth__JwtSigningKey: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/jwt-signing-key)'
    Email__PublicBaseUrl: 'https://${app.properties.defaultHostName}'
    // The Functions host fires timers and queue triggers; the in-process trigger host stays off.
    Triggers__Enabled: 'false'
  }, extraSettings)
}

output name string = app.name
output uri string = 'https://${app.properties.defaultHostName}'
