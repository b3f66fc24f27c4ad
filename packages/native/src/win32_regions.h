// Windows backend: opening regions. A shared-memory region is a pair of named pagefile-backed
// sections in the session namespace (its memory, and a metadata page holding its size, an unlinked
// mark and its wait table); a persisted region is a file, an unnamed section over it and a named
// metadata page keyed by the file's identity (volume serial number and file index).
#pragma once

#include <string>
#include <vector>

#include "platform.h"
#include "win32_objects.h"

namespace shmlink {
namespace win32 {

// On success `*object` is a new RegionObject with its section (not yet mapped) and metadata.
int OpenSharedRegion(const OpenRequest& request, RegionObject** object, OpenResult* result);
int OpenFileRegion(const OpenRequest& request, RegionObject** object, OpenResult* result);
int UnlinkSharedRegion(const std::string& os_name);
int ListSharedRegions(std::vector<std::string>* names);

}  // namespace win32
}  // namespace shmlink
