// A bound factory: a validated `_target_` node waiting for its runtime
// arguments (Hydra's functools.partial).
//
//   kiln::Partial<Optimizer, Params> make_optimizer = optimizers.partial(node, {"optimizer"});
//   ...                                 // later, once the model exists:
//   std::shared_ptr<Optimizer> opt = make_optimizer(model->parameters());
//
// Making a Partial binds and checks the node (every config error is thrown
// then); calling it only runs the factory, as many times as you like, each
// call building a new product from the same bound options.
//
// What a call throws: kiln::Error subclasses from the factory as they are
// (a ConfigError keeps its diagnostics); an InvalidParam (below) becomes a
// ConfigError at the parameter's key and source; any other std::exception
// becomes kiln::Error "optimizer 'adamw' at optimizer: <what>", so callers
// learn which config built the failing object. A factory returning null is
// a bug in the factory and throws kiln::Error.
//
// Ownership and thread safety: copies share the bound options (immutable);
// calling one Partial from several threads at once is safe when the factory
// itself is.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "kiln/config/error.h"
#include "kiln/config/node.h"
#include "kiln/error.h"

namespace kiln {

// Thrown by a factory whose parameters are individually valid but do not
// work together ("hidden must be divisible by heads"). The registry reports
// it as a ConfigError at the parameter's full key ("model.hidden") and the
// source where that parameter was written.
class InvalidParam : public kiln::Error {
 public:
  // `param` is the parameter's key in the factory's node ("hidden"), or ""
  // for the node as a whole.
  InvalidParam(std::string param, const std::string& message, std::string hint = {})
      : kiln::Error(message, ExitCode::kConfig), param_(std::move(param)), hint_(std::move(hint)) {}
  const std::string& param() const noexcept { return param_; }
  const std::string& hint() const noexcept { return hint_; }

 private:
  std::string param_;
  std::string hint_;
};

namespace registry_detail {

// What a Partial knows about the node it was bound from.
struct BoundFrom {
  std::string kind;     // "optimizer"
  std::string target;   // "adamw"
  std::string key;      // where the node sits: "optimizer", "model.encoder", "" at the root
  config::Node config;  // the node as given, reserved keys included
};

// The conversions described at the top of this file; each throws.
[[noreturn]] void throw_invalid_param(const BoundFrom& from, const InvalidParam& error);
[[noreturn]] void throw_factory_failed(const BoundFrom& from, const std::string& what);
[[noreturn]] void throw_null_product(const BoundFrom& from);
[[noreturn]] void throw_empty_partial();

}  // namespace registry_detail

template <class Product, class... Args>
class Partial {
 public:
  // The type-erased factory with its options bound.
  using Make = std::function<std::shared_ptr<Product>(Args...)>;

  // An empty Partial; calling it throws kiln::Error.
  Partial() = default;
  Partial(registry_detail::BoundFrom from, Make make)
      : state_(std::make_shared<const State>(State{std::move(from), std::move(make)})) {}

  bool empty() const { return state_ == nullptr; }
  explicit operator bool() const { return !empty(); }

  // Builds a new product. See the top of this file for what it throws.
  std::shared_ptr<Product> operator()(Args... args) const {
    if (!state_) registry_detail::throw_empty_partial();
    std::shared_ptr<Product> product;
    try {
      product = state_->make(std::forward<Args>(args)...);
    } catch (const InvalidParam& e) {
      registry_detail::throw_invalid_param(state_->from, e);
    } catch (const kiln::Error&) {
      throw;
    } catch (const std::exception& e) {
      registry_detail::throw_factory_failed(state_->from, e.what());
    } catch (...) {
      registry_detail::throw_factory_failed(state_->from, "an exception that is not a std::exception");
    }
    if (!product) registry_detail::throw_null_product(state_->from);
    return product;
  }
  std::shared_ptr<Product> create(Args... args) const { return (*this)(std::forward<Args>(args)...); }

  // About the bound node; empty strings / a null node when empty().
  const std::string& kind() const { return state_ ? state_->from.kind : empty_string(); }
  const std::string& target() const { return state_ ? state_->from.target : empty_string(); }
  const std::string& key() const { return state_ ? state_->from.key : empty_string(); }
  const config::Node& config() const {
    static const config::Node null;
    return state_ ? state_->from.config : null;
  }

 private:
  struct State {
    registry_detail::BoundFrom from;
    Make make;
  };
  static const std::string& empty_string() {
    static const std::string empty;
    return empty;
  }

  std::shared_ptr<const State> state_;
};

}  // namespace kiln
