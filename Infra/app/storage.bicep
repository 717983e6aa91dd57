// The storage account: the Functions host's own state, the deployment package, and every table, queue and container
// the app keeps its data in. Shared keys are disabled: the app and the host reach it with the app identity only.

param name string
param location string
param tags object
@description('Principal granted the data roles the app and the Functions host need (the app identity).')
param dataPrincipalId string

// What the app stores. Its adapters would create these on first use; declaring them keeps the account complete and
// lets a test check that nothing the platform writes is missing here.
var tableNames = [
  'alerts'
  'analytics'
  'analyticsexports'
  'apikeyhashes'
  'apikeys'
  'apps'
  'assistantsessions'
  'chatmessages'
  'chats'
  'creditaccounts'
  'credits'
  'credittransactions'
  'datasetbatches'
  'datasetdocuments'
  'datasetnamespaces'
  'datasetwaiting'
  'datasets'
  'executionevents'
  'executions'
  'executionsbyworkflow'
  'executionsbyworkspace'
  'executionslots'
  'expirations'
  'idempotency'
  'identitysubjects'
  'integrationexpiries'
  'integrations'
  'libraryagents'
  'librarypresets'
  'members'
  'modelusage'
  'oauthstates'
  'onetimetokens'
  'ottosessions'
  'platform'
  'platformevents'
  'pluginexecutions'
  'plugins'
  'processclaims'
  'processes'
  'processesdue'
  'processexecutions'
  'providers'
  'refreshtokens'
  'storecreators'
  'storelistings'
  'storelistingversions'
  'storemedia'
  'storenames'
  'storereviews'
  'storerunmarks'
  'storesubmissions'
  'tasks'
  'tokenfamilies'
  'usagerows'
  'useridentities'
  'userlogins'
  'usermemberships'
  'users'
  'userworkspaces'
  'webhookdeliveries'
  'webhooks'
  'workflows'
  'workflowtriggerclaims'
  'workflowtriggerhooks'
  'workflowtriggers'
  'workflowtriggersdue'
  'workflowversions'
  'workspaces'
]
var queueNames = [
  'analytics-exports'
  'analytics-exports-poison'
  'dataset-ingest'
  'dataset-ingest-poison'
  'email-outbox'
  'email-outbox-poison'
  'platform-events'
  'platform-events-poison'
  'plugin-executions'
  'plugin-executions-poison'
  'webhook-deliveries'
  'webhook-deliveries-poison'
]
var containerNames = [
  deploymentContainerName
  'analytics-exports'
  'datasets'
  'entity-spill'
  'platform-secrets'
  'store-media'
]

// The container the Flex Consumption plan deploys the app package from.
var deploymentContainerName = 'app-package'

var roles = [
  // Storage Blob Data Owner: the deployment package, the host's leases and timers, spilled documents, generated secrets.
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  // Storage Queue Data Contributor: the work queues the app writes and the host's queue triggers consume.
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  // Storage Table Data Contributor: the entity store.
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
]

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for container in containerNames: {
  parent: blobService
  name: container
  properties: {
    publicAccess: 'None'
  }
}]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queue in queueNames: {
  parent: queueService
  name: queue
}]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [for table in tableNames: {
  parent: tableService
  name: table
}]

resource dataRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in roles: {
  name: guid(account.id, dataPrincipalId, role)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: dataPrincipalId
    principalType: 'ServicePrincipal'
  }
}]

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output tableEndpoint string = account.properties.primaryEndpoints.table
output deploymentContainerName string = deploymentContainerName
