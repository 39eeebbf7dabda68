#include "lossy_link/netns.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace lossy_link {
namespace {

constexpr char kNetnsDirectory[] = "/run/netns";

[[noreturn]] void ThrowErrno(const std::string &what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd &) = delete;
  Fd &operator=(const Fd &) = delete;
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

ifreq InterfaceRequest(const std::string &device) {
  ifreq request{};
  std::strncpy(request.ifr_name, device.c_str(), IFNAMSIZ - 1);
  return request;
}

void SetAddress(int socket_fd, const std::string &device, unsigned long command,
                const std::string &address) {
  ifreq request = InterfaceRequest(device);
  sockaddr_in ipv4{};
  ipv4.sin_family = AF_INET;
  if (inet_pton(AF_INET, address.c_str(), &ipv4.sin_addr) != 1) {
    throw std::runtime_error("not an IPv4 address: " + address);
  }
  std::memcpy(&request.ifr_addr, &ipv4, sizeof ipv4);
  if (ioctl(socket_fd, command, &request) != 0) ThrowErrno("addressing " + device);
}

void BringUp(int socket_fd, const std::string &device) {
  ifreq request = InterfaceRequest(device);
  if (ioctl(socket_fd, SIOCGIFFLAGS, &request) != 0) ThrowErrno("reading the flags of " + device);
  request.ifr_flags |= IFF_UP;
  if (ioctl(socket_fd, SIOCSIFFLAGS, &request) != 0) ThrowErrno("bringing up " + device);
}

// Runs on a thread of its own, which unshare() moves into a new network namespace (only that
// thread: setns and unshare of CLONE_NEWNET are per thread); the namespace outlives it through
// the bind mount and the TUN descriptor, which belongs to the namespace it was made in.
int MakeNamespace(const std::string &path, const std::string &device, const TunAddress &address) {
  if (unshare(CLONE_NEWNET) != 0) ThrowErrno("unshare(CLONE_NEWNET)");
  if (mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) {
    ThrowErrno("bind-mounting the namespace on " + path);
  }
  Fd tun(open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (tun.get() < 0) ThrowErrno("opening /dev/net/tun");
  ifreq request = InterfaceRequest(device);
  request.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (ioctl(tun.get(), TUNSETIFF, &request) != 0) ThrowErrno("making the TUN device " + device);

  Fd control(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (control.get() < 0) ThrowErrno("socket");
  BringUp(control.get(), "lo");
  SetAddress(control.get(), device, SIOCSIFADDR, address.local);
  SetAddress(control.get(), device, SIOCSIFDSTADDR, address.peer);
  ifreq mtu = InterfaceRequest(device);
  mtu.ifr_mtu = address.mtu;
  if (ioctl(control.get(), SIOCSIFMTU, &mtu) != 0) ThrowErrno("setting the MTU of " + device);
  BringUp(control.get(), device);
  return tun.release();
}

}  // namespace

LinkNamespace::LinkNamespace(const std::string &name, const std::string &device,
                             const TunAddress &address)
    : name_(name), path_(std::string(kNetnsDirectory) + "/" + name) {
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') {
    throw std::runtime_error("not a namespace name: " + name);
  }
  if (mkdir(kNetnsDirectory, 0755) != 0 && errno != EEXIST) ThrowErrno("mkdir /run/netns");
  Fd mount_point(open(path_.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
  if (mount_point.get() < 0) {
    if (errno == EEXIST) {
      throw std::runtime_error(path_ + " exists (`ip netns delete " + name +
                               "` removes one left behind)");
    }
    ThrowErrno("creating " + path_);
  }
  std::string error;
  std::thread maker([&] {
    try {
      tun_fd_ = MakeNamespace(path_, device, address);
    } catch (const std::exception &failure) {
      error = failure.what();
    }
  });
  maker.join();
  if (!error.empty()) {
    Remove();
    throw std::runtime_error("namespace " + name + ": " + error);
  }
}

LinkNamespace::~LinkNamespace() {
  Remove();
}

void LinkNamespace::Remove() {
  if (tun_fd_ >= 0) close(tun_fd_);
  tun_fd_ = -1;
  umount2(path_.c_str(), MNT_DETACH);  // EINVAL when a failure came before the mount
  unlink(path_.c_str());
}

}  // namespace lossy_link
