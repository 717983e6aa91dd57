// Key Vault for the app's secrets. App settings hold Key Vault references, never the values; the app identity may
// read secrets (Key Vault Secrets User) and nothing else.

param name string
param location string
param tags object
@description('Principal that reads the secrets through Key Vault references (the app identity).')
param readerPrincipalId string
@secure()
@description('Secrets to store: name → value. An empty value is skipped.')
param secrets object

var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var stored = filter(items(secrets), secret => !empty(secret.value))

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }
}

resource secretValues 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [for secret in stored: {
  parent: vault
  name: secret.key
  properties: {
    value: secret.value
  }
}]

// Key Vault Secrets User: resolves the app settings' Key Vault references.
resource reader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, readerPrincipalId, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: readerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
