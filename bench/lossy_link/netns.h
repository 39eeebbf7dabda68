// A network namespace made for the emulated link, named in /run/netns so that `ip netns exec`
// and setns(2) find it, holding one TUN device whose packets this process reads and writes.
// Nothing here touches the namespace this process runs in, nor any of its interfaces.
#pragma once

#include <string>

namespace lossy_link {

struct TunAddress {
  std::string local;  // the device's IPv4 address in its namespace
  std::string peer;   // the other end's, reached over the device
  int mtu = 1500;
};

class LinkNamespace {
 public:
  // Creates /run/netns/`name` (failing if it exists: another emulator's, or one left by one that
  // was killed, which `ip netns delete` removes), brings its loopback up, and makes a TUN device
  // `device` there with `address`. Throws std::runtime_error saying what failed.
  LinkNamespace(const std::string &name, const std::string &device, const TunAddress &address);
  // Closes the device (which removes it) and removes the name. Processes still inside keep the
  // namespace alive until they end; it has no way out once the device is gone.
  ~LinkNamespace();
  LinkNamespace(const LinkNamespace &) = delete;
  LinkNamespace &operator=(const LinkNamespace &) = delete;

  // The TUN device's descriptor, non-blocking: each read is one IPv4 or IPv6 packet.
  int tun_fd() const { return tun_fd_; }
  const std::string &name() const { return name_; }
  const std::string &path() const { return path_; }

 private:
  void Remove();

  std::string name_;
  std::string path_;
  int tun_fd_ = -1;
};

}  // namespace lossy_link
