variable "authentication_mode" {
  description = "The authentication mode for the cluster. Valid values are `CONFIG_MAP`, `API` or `API_AND_CONFIG_MAP`"
  type        = string
  default     = "API_AND_CONFIG_MAP"
}
variable "access_entries" {
  description = "Map of access entries to add to the cluster"
  type        = any
  default     = {}
}
