/*
 * A fake libnvidia-ml.so.1 for tests: the subset of NVML that @bento/native calls, with the same
 * signatures, return codes and struct layouts, over the inventory in fake_devices.h.
 * Build: cc -shared -fPIC -o libnvidia-ml.so.1 fake_nvml.c
 */
#include "fake_devices.h"

typedef int nvmlReturn_t;
enum {
  NVML_SUCCESS = 0,
  NVML_ERROR_UNINITIALIZED = 1,
  NVML_ERROR_INVALID_ARGUMENT = 2,
  NVML_ERROR_NOT_SUPPORTED = 3,
  NVML_ERROR_NOT_FOUND = 6,
  NVML_ERROR_INSUFFICIENT_SIZE = 7,
};

/* A handle points at one of these; MIG handles carry their parent and slot. */
typedef struct fake_handle {
  unsigned index;
  int is_mig;
  unsigned slot;
} fake_handle;
typedef fake_handle *nvmlDevice_t;

typedef struct {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
} nvmlMemory_t;

typedef struct {
  char busIdLegacy[16];
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pciDeviceId;
  unsigned int pciSubSystemId;
  char busId[32];
} nvmlPciInfo_t;

static int initialized = 0;
static fake_handle devices[FAKE_MAX_DEVICES];
static fake_handle migs[FAKE_MAX_DEVICES][FAKE_MIG_SLOTS];

static int copy_out(const char *src, char *dst, unsigned len) {
  if (dst == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  if (strlen(src) + 1 > len) return NVML_ERROR_INSUFFICIENT_SIZE;
  memcpy(dst, src, strlen(src) + 1);
  return NVML_SUCCESS;
}

const char *nvmlErrorString(nvmlReturn_t r) {
  switch (r) {
  case 0: return "Success";
  case 1: return "Uninitialized";
  case 2: return "Invalid Argument";
  case 3: return "Not Supported";
  case 4: return "Insufficient Permissions";
  case 5: return "Already Initialized";
  case 6: return "Not Found";
  case 7: return "Insufficient Size";
  case 9: return "Driver Not Loaded";
  case 10: return "Timeout";
  case 12: return "NVML Shared Library Not Found";
  case 15: return "GPU is lost";
  case 18: return "RM has detected an NVML/RM version mismatch.";
  default: return "Unknown Error";
  }
}

nvmlReturn_t nvmlInit_v2(void) {
  fake_delay();
  int err = fake_env_int("FAKE_NVML_INIT_ERROR", 0);
  if (err != 0) return err;
  for (unsigned i = 0; i < FAKE_MAX_DEVICES; i++) {
    devices[i] = (fake_handle){i, 0, 0};
    for (unsigned s = 0; s < FAKE_MIG_SLOTS; s++) migs[i][s] = (fake_handle){i, 1, s};
  }
  initialized = 1;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlInit(void) { return nvmlInit_v2(); }

nvmlReturn_t nvmlShutdown(void) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  initialized = 0;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned length) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  return copy_out(FAKE_DRIVER_VERSION, version, length);
}

nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *version) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  if (version == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  *version = FAKE_CUDA_VERSION;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *version) {
  return nvmlSystemGetCudaDriverVersion_v2(version);
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned *count) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  if (count == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  *count = fake_device_count();
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned index, nvmlDevice_t *device) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  if (device == NULL || index >= fake_device_count()) return NVML_ERROR_INVALID_ARGUMENT;
  *device = &devices[index];
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned length) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  if (device == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  char buf[96];
  if (device->is_mig) fake_mig_uuid(device->index, device->slot, buf, sizeof buf);
  else fake_uuid(device->index, buf, sizeof buf);
  return copy_out(buf, uuid, length);
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned length) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  if (device == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  char buf[96];
  fake_name(device->index, buf, sizeof buf);
  return copy_out(buf, name, length);
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  if (device == NULL || memory == NULL || device->is_mig) return NVML_ERROR_INVALID_ARGUMENT;
  unsigned long long used = fake_used_mib(device->index);
  if (used > FAKE_TOTAL_MIB) used = FAKE_TOTAL_MIB;
  memory->total = FAKE_TOTAL_MIB << 20;
  memory->used = used << 20;
  memory->free = memory->total - memory->used;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t *pci) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  if (device == NULL || pci == NULL || device->is_mig) return NVML_ERROR_INVALID_ARGUMENT;
  memset(pci, 0, sizeof *pci);
  pci->domain = 0;
  pci->bus = fake_bus[device->index];
  pci->device = 0;
  pci->pciDeviceId = 0x233010DE;
  pci->pciSubSystemId = 0x16C110DE;
  snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "0000:%02X:00.0", pci->bus);
  fake_bus_id(device->index, pci->busId, sizeof pci->busId);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned *current, unsigned *pending) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  if (device == NULL || current == NULL || pending == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  if (device->is_mig) return NVML_ERROR_NOT_SUPPORTED;
  *current = *pending = (unsigned)fake_mig_enabled(device->index);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t device, unsigned *count) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  if (device == NULL || count == NULL || device->is_mig) return NVML_ERROR_INVALID_ARGUMENT;
  *count = fake_mig_enabled(device->index) ? FAKE_MIG_SLOTS : 0;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t device, unsigned index,
                                                 nvmlDevice_t *mig) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  if (device == NULL || mig == NULL || device->is_mig) return NVML_ERROR_INVALID_ARGUMENT;
  if (!fake_mig_enabled(device->index)) return NVML_ERROR_NOT_SUPPORTED;
  if (index >= FAKE_MIG_SLOTS) return NVML_ERROR_INVALID_ARGUMENT;
  if (!fake_mig_slot_used(index)) return NVML_ERROR_NOT_FOUND;
  *mig = &migs[device->index][index];
  return NVML_SUCCESS;
}
