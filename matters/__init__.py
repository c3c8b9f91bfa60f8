"""政务服务事项: the matter catalog, applications, department review and deadlines."""
