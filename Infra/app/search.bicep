// Azure AI Search for knowledge bases, keyless: API keys disabled, the app identity indexes and queries with Entra.

param name string
param location string
param tags object
param sku string
@description('Principal that writes and queries the indexes (the app identity).')
param indexerPrincipalId string

var searchIndexDataContributor = '8ebe5a00-799e-43f5-93ac-243d3dce84a7'
var searchServiceContributor = '7ca78c08-252a-4471-8644-bb5ff32d4ba0'

resource search 'Microsoft.Search/searchServices@2023-11-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: sku
  }
  properties: {
    disableLocalAuth: true
    hostingMode: 'default'
    partitionCount: 1
    replicaCount: 1
    semanticSearch: 'disabled'
  }
}

// Search Index Data Contributor: reads and writes documents of existing indexes, nothing more.
resource indexer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(search.id, indexerPrincipalId, searchIndexDataContributor)
  scope: search
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', searchIndexDataContributor)
    principalId: indexerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Search Service Contributor: the app creates its index when it is missing (index definitions, not data).
resource indexManager 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(search.id, indexerPrincipalId, searchServiceContributor)
  scope: search
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', searchServiceContributor)
    principalId: indexerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output endpoint string = 'https://${search.name}.search.windows.net'
output name string = search.name
